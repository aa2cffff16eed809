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

const labUsage = "usage: pecspec lab up [--dir DIR] [--enrol PUT.yaml]... [--ports BASE] [--listen ADDR] [--pecref PATH] [-v]"

// cmdLab runs `pecspec lab up`: the lab stays up until interrupted, then every
// child process is stopped. With --enrol the provider under test the file
// describes joins the lab (docs/testing-your-provider.md).
func cmdLab(args []string) int {
	if len(args) == 0 || args[0] != "up" {
		return fail(labUsage)
	}
	fs := flag.NewFlagSet("lab up", flag.ContinueOnError)
	dir := fs.String("dir", ".lab", "work directory of the lab (keys, tokens, data, logs); a running lab's is refused")
	var enrol multiFlag
	fs.Var(&enrol, "enrol", "enrolment file of a provider under test: it joins the lab (index, DNS, routes, certificates); repeat it for several")
	ports := fs.Int("ports", 0, "BASE of the fixed port layout (every endpoint at BASE+offset; 0: free ports)")
	listen := fs.String("listen", "127.0.0.1", "the lab address; the MX addresses are the four after it")
	pecref := fs.String("pecref", "", "pecref binary (default: next to pecspec, then $PATH)")
	verbose := fs.Bool("v", false, "log start-up steps")
	if err := fs.Parse(args[1:]); err != nil {
		return exitHarness
	}
	if fs.NArg() > 0 {
		return fail("lab up: unexpected argument %q; %s", fs.Arg(0), labUsage)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l, err := lab.Up(ctx, lab.Options{Dir: *dir, Pecref: *pecref, Log: logger(*verbose), Enrols: enrol,
		Ports: *ports, Listen: *listen})
	if err != nil {
		return fail("%s", oneLine(err))
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
