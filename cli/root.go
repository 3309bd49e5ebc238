// Package cli builds stretchctl's command tree. Commands are constructed
// per run (no package-level state) and write to the injected writers;
// main maps the returned error to an exit code with ExitCode.
//
// A command translates its flags into options, calls the engine (advise
// for checks, chaos for drills, probe and lab) and renders what it
// returns. It holds no pipeline logic of its own: the TUI and the
// operator call the same engine and must get the same answers.
package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"
)

// Exit codes shared by every command (the CI contract).
const (
	ExitOK        = 0 // goals met / command done
	ExitViolated  = 1 // goals violated
	ExitAssess    = 2 // could not assess: usage, config, connection, auth
	ExitNotHealed = 3 // a fault could not be healed
)

// ExitError carries the exit code a failure should end the process with.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

func exitErr(code int, err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: code, Err: err}
}

// ExitCode maps an error from Execute to the process exit code: the code
// of an ExitError, else 2 (could not assess, usage errors included).
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var e *ExitError
	if errors.As(err, &e) {
		return e.Code
	}
	return ExitAssess
}

// IO is where commands read and write.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
	Log      *slog.Logger
}

// NewRoot builds the stretchctl command tree.
func NewRoot(io IO, version string) *cobra.Command {
	root := &cobra.Command{
		Use:   "stretchctl",
		Short: "Check, measure and drill Kafka clusters stretched over data centers",
		Long: `stretchctl tells a Kafka platform team whether its stretched cluster (one
cluster over 2-3 data centers) survives the loss of a data center within its
RTO/RPO goals, and proves it: it measures inter-DC latency as Kafka feels it,
checks configs and replica placement, and injects DC failures.

Start with a local stretched cluster of real Apache Kafka:
  stretchctl lab up`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.Err)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return exitErr(ExitAssess, fmt.Errorf("%w (see `%s --help`)", err, c.CommandPath()))
	})
	root.AddCommand(newLabCmd(io), newConfigCmd(io), newSnapshotCmd(io), newCheckCmd(io, version), newRulesCmd(io), newProbeCmd(io), newDrillCmd(io, version), newTUICmd(io, version), newOperatorCmd(io, version), newACLsCmd(io))
	return root
}
