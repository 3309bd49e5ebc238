// Package boundedfile reads the files a user names (configs, snapshots,
// matrices, client files, secrets) without trusting them: only regular
// files — a FIFO would block the read forever, a device (/dev/zero) never
// ends — and only up to a size the caller names. It does nothing else: no
// parsing, no path resolution.
package boundedfile

import (
	"fmt"
	"io"
	"os"
)

// Read returns the content of the regular file at path, or an error that
// names the path when it is not a regular file or holds more than max
// bytes.
func Read(path string, max int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s)", path, kind(fi.Mode()))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes, more than such a file holds", path, max)
	}
	return b, nil
}

func kind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}
