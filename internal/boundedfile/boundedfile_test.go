package boundedfile

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok")
	if err := os.WriteFile(ok, []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := Read(ok, 5); err != nil || string(b) != "12345" {
		t.Errorf("Read(5 bytes, max 5) = %q, %v", b, err)
	}
	if _, err := Read(ok, 4); err == nil || !strings.Contains(err.Error(), "larger than 4 bytes") {
		t.Errorf("Read(5 bytes, max 4): %v", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{fifo: "a named pipe", "/dev/zero": "a device", dir: "a directory"} {
		if _, err := Read(path, 1<<20); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("Read(%s): %v, want %q with the path", path, err, want)
		}
	}
}
