// Command stretchctl checks, measures and drills Kafka clusters stretched
// over several data centers. See `stretchctl --help`.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/stretchctl/stretchctl/cli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if os.Getenv("STRETCHCTL_DEBUG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	root := cli.NewRoot(cli.IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Log: log}, version)
	err := root.ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "stretchctl: %v\n", err)
	}
	os.Exit(cli.ExitCode(err))
}
