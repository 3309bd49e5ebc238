// Package maven resolves Maven artifacts, with their runtime
// dependencies, into stretchctl's cache using the machine's Maven (the
// jars come from Maven Central; nothing is downloaded by hand), and finds
// the machine's Java. The lab's Kafka and the drill's Java workload use
// it. It never writes into the repository.
package maven

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Artifact is one Maven dependency.
type Artifact struct {
	Group, Name, Version string
}

// CacheDir is where jars are kept between runs: $STRETCHCTL_CACHE, else
// the user cache directory. Never inside the repository.
func CacheDir() string {
	if d := os.Getenv("STRETCHCTL_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "stretchctl")
	}
	return filepath.Join(os.TempDir(), "stretchctl-cache")
}

// complete marks a directory whose fetch finished.
const complete = ".complete"

// Fetch copies the artifacts and their runtime dependencies into dir
// (under CacheDir, by the caller's choice of name). It is a no-op when dir
// is complete; a failed fetch leaves no partial dir behind. what names
// the set in messages ("Kafka 4.3.1").
func Fetch(ctx context.Context, dir, what string, artifacts []Artifact, progress func(string, ...any)) error {
	if _, err := os.Stat(filepath.Join(dir, complete)); err == nil {
		return nil
	}
	mvn, err := exec.LookPath("mvn")
	if err != nil {
		return fmt.Errorf("maven (mvn) is needed to fetch %s from Maven Central: %w", what, err)
	}
	if progress != nil {
		progress("fetching %s jars from Maven Central into %s", what, dir)
	}
	work := dir + ".work"
	if err := os.RemoveAll(work); err != nil {
		return err
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if err := os.WriteFile(filepath.Join(work, "pom.xml"), []byte(pom(artifacts)), 0o644); err != nil {
		return err
	}
	tmp := filepath.Join(work, "libs")
	cmd := exec.CommandContext(ctx, mvn, "-B", "-q", "-f", filepath.Join(work, "pom.xml"),
		"dependency:copy-dependencies", "-DincludeScope=runtime", "-DoutputDirectory="+tmp)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("maven could not fetch %s (is Maven Central reachable? does the version exist?): %w\n%s", what, err, Tail(out.String(), 20))
	}
	if err := os.WriteFile(filepath.Join(tmp, complete), nil, 0o644); err != nil {
		return err
	}
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

// pom lists the artifacts as the dependencies of a throw-away project.
func pom(artifacts []Artifact) string {
	var deps strings.Builder
	for _, a := range artifacts {
		fmt.Fprintf(&deps, "\n    <dependency><groupId>%s</groupId><artifactId>%s</artifactId><version>%s</version></dependency>", a.Group, a.Name, a.Version)
	}
	return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.stretchctl</groupId>
  <artifactId>jars</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>` + deps.String() + `
  </dependencies>
</project>
`
}

// Java finds the java command: $JAVA_HOME/bin/java, else the PATH.
func Java() (string, error) { return jdkTool("java") }

// Javac finds the javac command likewise.
func Javac() (string, error) { return jdkTool("javac") }

func jdkTool(name string) (string, error) {
	if h := os.Getenv("JAVA_HOME"); h != "" {
		if p := filepath.Join(h, "bin", name); fileExists(p) {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s (Java 17 or newer) is needed: %w", name, err)
	}
	return p, nil
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// Tail is the last lines of s.
func Tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}
