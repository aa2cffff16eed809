package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pecspec/pecspec/reference/lab"
)

// controlWait bounds a control command: the lab bounds each action itself
// (a start by its component's readiness, 30 s at most), this is a backstop.
const controlWait = 2 * time.Minute

type labControlFlags struct{ dir, format string }

func labControlFlagSet(action string, f *labControlFlags) *flag.FlagSet {
	fs := newFlagSet("lab " + action)
	fs.StringVar(&f.dir, "dir", ".lab", "")
	fs.StringVar(&f.format, "format", "text", "")
	return fs
}

// cmdLabControl runs `pecspec lab status|stop|start|restart [NAME]`: it asks
// the lab running in --dir over its control socket (reference/lab/control.go).
func cmdLabControl(action string, args []string) int {
	var f labControlFlags
	rest, err := parseFlags(labControlFlagSet(action, &f), args)
	cmd := "lab " + action
	switch {
	case err != nil:
		return usageError(cmd, err)
	case f.format != "text" && f.format != "json":
		return usageError(cmd, fmt.Errorf("unknown format %q (text or json)", f.format))
	case len(rest) > 1:
		return usageError(cmd, fmt.Errorf("unexpected argument %q", rest[1]))
	case len(rest) == 0 && action != lab.ActionStatus:
		return usageError(cmd, fmt.Errorf("which component? pecspec lab %s NAME (pecspec lab status lists them)", action))
	}
	req := lab.Request{Action: action}
	if len(rest) == 1 {
		req.Name = rest[0]
	}
	ctx, cancel := context.WithTimeout(context.Background(), controlWait)
	defer cancel()
	resp, err := lab.Ask(ctx, f.dir, req)
	switch {
	case errors.Is(err, lab.ErrNoLab):
		return fail("no lab running in %s: start one with pecspec lab up --dir %s", f.dir, f.dir)
	case err != nil:
		return fail("%s: %s", strings.TrimSpace(cmd+" "+req.Name), strings.TrimPrefix(err.Error(), "lab: "))
	}
	if f.format == "json" {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(resp); err != nil {
			return fail("%s: %v", cmd, err)
		}
		return exitOK
	}
	if action != lab.ActionStatus {
		fmt.Printf("%s in %v\n", resp.Message, time.Duration(resp.TookMS)*time.Millisecond)
		return exitOK
	}
	printStatus(resp.Components)
	return exitOK
}

// printStatus is the table of lab status.
func printStatus(cs []lab.ComponentStatus) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tPID\tSTATE")
	for _, c := range cs {
		pid := "-"
		if c.PID != 0 {
			pid = fmt.Sprint(c.PID)
		}
		state := c.State
		if c.Exit != "" {
			state += " (" + c.Exit + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Name, c.Kind, pid, state)
	}
	tw.Flush()
}

// serveControl serves the lab's control socket; without one (a directory
// path too long for a unix socket) the lab still runs, and says so.
func serveControl(ctx context.Context, l *lab.Lab) *lab.Control {
	ctl, err := l.Serve(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pecspec: lab up: %s; lab status, stop, start and restart will not reach this lab\n",
			oneLine(err))
		return nil
	}
	return ctl
}
