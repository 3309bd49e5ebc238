// Package e2e runs stretchctl's commands end to end against a real lab:
// real Kafka in DC namespaces, driven through the built binary exactly as a
// user or a CI job would.
package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchctl/stretchctl/lab"
)

// requireLab fails in CI and skips elsewhere when the machine cannot run
// the lab: it needs root for namespaces, java and maven for Kafka.
func requireLab(t *testing.T) {
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
			t.Skip("end-to-end test with real Kafka; run without -short")
		}
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("the end-to-end tests need %s; CI must provide them", strings.Join(missing, ", "))
	}
	t.Skipf("the end-to-end tests need %s", strings.Join(missing, ", "))
}

func buildStretchctl(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "stretchctl")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/stretchctl").CombinedOutput(); err != nil {
		t.Fatalf("build stretchctl: %v\n%s", err, out)
	}
	return bin
}

func run(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
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

func mustRun(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, errOut, code := run(t, bin, args...)
	if code != 0 {
		t.Fatalf("stretchctl %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// startLab brings a lab up for the test and takes it down afterwards.
func startLab(t *testing.T, bin string, args ...string) *lab.Lab {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "lab")
	mustRun(t, bin, append([]string{"lab", "up", "--dir", dir}, args...)...)
	t.Cleanup(func() { run(t, bin, "lab", "down", "--dir", dir) })
	return &lab.Lab{Dir: dir, Executable: bin}
}

// kafkaTool runs one of Kafka's own command-line tools (a class from the
// lab's jars) from the operator's site.
func kafkaTool(t *testing.T, st *lab.State, class string, args ...string) string {
	t.Helper()
	dist, err := lab.FetchKafka(context.Background(), st.KafkaVersion, func(string, ...any) {})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("java", append([]string{"-cp", dist.Classpath(), "-Dlog4j2.level=WARN", class}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", class, args, err, out)
	}
	return string(out)
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
