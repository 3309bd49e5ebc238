// Package labtest holds what the integration tests of several packages
// share to drive a real lab through the stretchctl binary: the machine
// check (fail in CI, skip elsewhere), building the binary, running it.
// It is imported by tests only.
package labtest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// RequireLab fails in CI and skips elsewhere when the machine cannot run
// the lab: it needs root for namespaces, java and maven for Kafka. With
// -short (outside CI) it skips the test.
func RequireLab(t testing.TB) {
	t.Helper()
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (network namespaces)")
	}
	for _, bin := range []string{"java", "mvn"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	if len(missing) == 0 {
		if testing.Short() && os.Getenv("CI") == "" {
			t.Skip("integration test with real Kafka; run without -short")
		}
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("the lab integration tests need %s; CI must provide them", strings.Join(missing, ", "))
	}
	t.Skipf("the lab integration tests need %s", strings.Join(missing, ", "))
}

// BuildStretchctl builds the stretchctl binary of this module, and its
// librdkafka helper next to it (where stretchctl looks for it), into a
// temporary directory and returns stretchctl's path.
func BuildStretchctl(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "stretchctl")
	for pkg, out := range map[string]string{"cmd/stretchctl": bin, "cmd/stretchctl-rdkafka": filepath.Join(dir, "stretchctl-rdkafka")} {
		cmd := exec.Command("go", "build", "-o", out, "github.com/stretchctl/stretchctl/"+pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", pkg, err, b)
		}
	}
	return bin
}

// Run runs the binary and returns its output and exit code.
func Run(t testing.TB, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run %v: %v", args, err)
	}
	return o.String(), e.String(), code
}

// MustRun runs the binary and fails the test unless it exits 0.
func MustRun(t testing.TB, bin string, args ...string) string {
	t.Helper()
	out, errOut, code := Run(t, bin, args...)
	if code != 0 {
		t.Fatalf("stretchctl %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// HealAll undoes whatever a failed subtest left in the lab at dir.
func HealAll(t testing.TB, bin, dir string) {
	t.Helper()
	if _, errOut, code := Run(t, bin, "lab", "heal", "--all", "--dir", dir); code != 0 {
		t.Errorf("cleanup heal: exit %d: %s", code, errOut)
	}
}
