package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// interruption is the cause of a command's context when it was stopped.
type interruption string

func (i interruption) Error() string { return "interrupted by " + string(i) }

// interruptible returns a context that ends at the first SIGINT, SIGTERM or
// SIGHUP, or when standard output is closed (SIGPIPE: `pecspec run | head
// -1`; standard output then fails quietly instead of killing the harness),
// its cause naming which: the command then stops the lab in order and writes
// what it has. A second SIGINT or SIGTERM exits at once, with exit code 2;
// the lab's processes die with the harness anyway (reference/lab/proc.go).
// stop must run last: after it a write to a closed standard output kills.
func interruptible() (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	done := make(chan struct{})
	go func() {
		signals := 0
		for {
			select {
			case <-done:
				return
			case sig := <-ch:
				if sig == syscall.SIGPIPE {
					cancel(interruption("a closed standard output (SIGPIPE)"))
					continue
				}
				if signals++; signals > 1 {
					fmt.Fprintf(os.Stderr, "pecspec: %s again: exiting now\n", signalName(sig))
					os.Exit(exitHarness)
				}
				cancel(interruption(signalName(sig)))
				fmt.Fprintf(os.Stderr, "pecspec: %s: stopping (the reports of what ended are written); %s again exits at once\n",
					signalName(sig), signalName(sig))
			}
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

func signalName(sig os.Signal) string {
	switch sig {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return sig.String()
}

// interrupted is why ctx was interrupted, or nil.
func interrupted(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	return context.Cause(ctx)
}
