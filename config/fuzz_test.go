package config

import (
	"os"
	"reflect"
	"testing"
)

// FuzzParse checks that Parse never panics and that every config it accepts
// survives Marshal and a second Parse unchanged.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"../testdata/config/full.yaml", "../testdata/config/minimal.yaml", "../testdata/config/invalid.yaml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err != nil {
			if c != nil {
				t.Fatalf("Parse returned both a config and an error")
			}
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Parse error %T is not *Error: %v", err, err)
			}
			return
		}
		out, err := c.Marshal()
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		again, err := Parse("fuzz.yaml", out)
		if err != nil {
			t.Fatalf("re-Parse of Marshal output failed: %v\ninput:\n%s\nmarshalled:\n%s", err, data, out)
		}
		if !reflect.DeepEqual(c, again) {
			t.Fatalf("round trip differs:\nfirst  %#v\nsecond %#v\ninput:\n%s\nmarshalled:\n%s", c, again, data, out)
		}
	})
}
