package chaos

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadState: a drill state file of any content is refused or read,
// never a crash; one that is read has a valid fault and names its file.
func FuzzReadState(f *testing.F) {
	f.Add([]byte(`{"id":"d1","fault":{"kind":"crash","dc":"dc-a","duration":1000000000},"phase":"holding","backend":{"exec":{"inject":{"crash":"true"},"heal":{"crash":"true"}}}}`))
	f.Add([]byte(`{"id":"../x","fault":{}}`))
	f.Add([]byte(`{`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "d1.json")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := readState(p)
		if err != nil {
			return
		}
		if s.ID != "d1" || s.Fault.Validate() != nil {
			t.Errorf("read %+v from %q", s, b)
		}
	})
}
