package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/pecspec/pecspec/reference/lab"
)

// cmdLab runs `pecspec lab up`: the lab stays up until interrupted, then every
// child process is stopped.
func cmdLab(args []string) int {
	if len(args) == 0 || args[0] != "up" {
		return fail("usage: pecspec lab up [--dir DIR] [--pecref PATH]")
	}
	fs := flag.NewFlagSet("lab up", flag.ContinueOnError)
	dir := fs.String("dir", ".lab", "work directory of the lab (keys, tokens, data, logs)")
	pecref := fs.String("pecref", "", "pecref binary (default: next to pecspec, then $PATH)")
	verbose := fs.Bool("v", false, "log start-up steps")
	if err := fs.Parse(args[1:]); err != nil {
		return exitHarness
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l, err := lab.Up(ctx, lab.Options{Dir: *dir, Pecref: *pecref, Log: logger(*verbose)})
	if err != nil {
		return fail("%v", err)
	}
	l.Describe(os.Stdout)
	os.Stdout.WriteString("\nlab is up; press Ctrl-C to stop it\n")
	<-ctx.Done()
	if err := l.Down(); err != nil {
		return fail("stopping the lab: %v", err)
	}
	return exitOK
}

func logger(verbose bool) *slog.Logger {
	if !verbose {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}
