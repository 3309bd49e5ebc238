// Package golden holds the tests' shared fixtures and golden files: every
// path is under the module's top-level testdata/ directory, and one
// -update flag, for the whole module, rewrites the golden files. It is
// imported by tests only.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// updateFlag is the module's one -update flag (go test ./... -update).
// charmbracelet's golden package (under teatest) defines a flag of the
// same name and meaning; packages initialise in import-path order, so
// when both are in a test binary, it comes first and this one is shared.
const updateFlag = "update"

// defined is set once the flag exists (here, or already by teatest's
// golden package).
var defined = func() bool {
	if flag.Lookup(updateFlag) == nil {
		flag.Bool(updateFlag, false, "rewrite the golden files under testdata/")
	}
	return true
}()

// Update reports whether -update was given: tests that generate fixtures
// rewrite them too.
func Update() bool {
	f := flag.Lookup(updateFlag)
	return f != nil && f.Value.String() == "true"
}

// Path is rel (slash-separated parts) under the module's testdata/.
func Path(rel ...string) string {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "testdata")
	return filepath.Join(append([]string{root}, rel...)...)
}

// Read returns the content of a fixture under testdata/.
func Read(t testing.TB, rel ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(Path(rel...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Assert compares got with the golden file at rel under testdata/golden/
// (with -update: writes it first).
func Assert(t testing.TB, rel string, got []byte) {
	t.Helper()
	AssertFile(t, Path("golden", rel), got)
}

// AssertFile compares got with the golden file at path (with -update:
// writes it first).
func AssertFile(t testing.TB, path string, got []byte) {
	t.Helper()
	if Update() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
