// Package e2e runs stretchctl's commands end to end against a real lab:
// real Kafka in DC namespaces, driven through the built binary exactly as a
// user or a CI job would.
package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchctl/stretchctl/lab/labtest"

	"github.com/stretchctl/stretchctl/lab"
)

func requireLab(t *testing.T)             { t.Helper(); labtest.RequireLab(t) }
func buildStretchctl(t *testing.T) string { t.Helper(); return labtest.BuildStretchctl(t) }
func mustRun(t *testing.T, bin string, args ...string) string {
	t.Helper()
	return labtest.MustRun(t, bin, args...)
}
func run(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	return labtest.Run(t, bin, args...)
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
