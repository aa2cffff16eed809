package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/pecspec/pecspec/reference/lab"
)

const labUsage = `usage: pecspec lab up [flags]
       pecspec lab status [NAME] [--dir DIR] [--format text|json]
       pecspec lab stop|start|restart NAME [--dir DIR] [--format text|json]

Start the reference lab and keep it up until interrupted (Ctrl-C, SIGTERM):
two reference PEC providers, alpha and beta (pecref processes, each with its
SoftHSM2 token), the index of providers (OpenLDAP slapd), the antivirus
(clamd), the DNS of the lab's domains (dnsmasq), an ordinary-mail domain
(posta.esterna.test) and gamma, the peer pecspec run drives. It prints every
endpoint, port, mailbox, password and token, as tables or JSON. With --enrol
a provider under test joins the lab (certificates, index record, DNS,
routes) and the printout ends with what it must configure
(docs/testing-your-provider.md). A lab already running in DIR is left alone:
the second lab up is refused, naming its PID. The lab's processes never
outlive it, however it ends.

While it runs, lab up serves DIR/control.sock (a unix socket, mode 0600):
lab status lists the lab's processes (name, kind, pid, state); lab stop
NAME stops one (SIGTERM, SIGKILL after 5 s), lab start NAME starts it again
on the same configuration, ports and data and waits until it answers, lab
restart NAME does both. The lab goes on running whatever is stopped; Ctrl-C
stops the rest. NAME is one of alpha, beta (the pecref instances),
dovecot-alpha, dovecot-beta, dovecot-external, slapd, clamd, dns (dnsmasq).

flags:
  --dir DIR           work directory (default .lab): keys, tokens, data, logs;
                      status, stop, start and restart act on the lab running there
  --enrol FILE        enrolment file of a provider under test; repeat it to
                      enrol several (pecspec matrix runs them pairwise)
  --ports BASE        fixed port layout: every endpoint at BASE+offset
                      (default 0: free ports)
  --listen ADDR       the lab's address (default 127.0.0.1); each domain's MX
                      listens on one of the four addresses after it
  --format text|json  the printout: tables (default) or one JSON object on
                      standard output (then "lab is up" goes to standard error);
                      for status, stop, start and restart, their answer
  --pecref PATH       pecref binary (default: next to pecspec, then $PATH)
  -v                  log the start-up steps

exit codes:
  0  the lab ran and was stopped; status, stop, start, restart: done
  2  it could not start (one line naming the part and why), a lab already
     runs in DIR, or a usage error; status, stop, start, restart: no lab
     runs in DIR, an unknown NAME (the line lists the names), or the
     component did not start (the line names its log)

examples:
  pecspec lab up
  pecspec lab up --format json > lab.json
  pecspec lab up --dir .lab --enrol put.yaml --ports 20000
  pecspec lab up --dir .lab --enrol acme.yaml --enrol other.yaml
  pecspec lab stop beta --dir .lab      beta's MX, submission and admin go away
  pecspec lab start beta --dir .lab
  pecspec lab restart slapd --dir .lab
  pecspec lab status --dir .lab
`

type labFlags struct {
	dir, listen, pecref, format string
	enrol                       multiFlag
	ports                       int
	verbose                     bool
}

func labFlagSet(f *labFlags) *flag.FlagSet {
	fs := newFlagSet("lab up")
	fs.StringVar(&f.dir, "dir", ".lab", "")
	fs.Var(&f.enrol, "enrol", "")
	fs.IntVar(&f.ports, "ports", 0, "")
	fs.StringVar(&f.listen, "listen", "127.0.0.1", "")
	fs.StringVar(&f.format, "format", "text", "")
	fs.StringVar(&f.pecref, "pecref", "", "")
	fs.BoolVar(&f.verbose, "v", false, "")
	return fs
}

// cmdLab runs `pecspec lab up`: the lab stays up until interrupted, then every
// child process is stopped. With --enrol the provider under test the file
// describes joins the lab (docs/testing-your-provider.md). `lab status`,
// `stop`, `start` and `restart` act on a running lab's processes.
func cmdLab(args []string) int {
	if len(args) == 0 {
		return usageError("lab", fmt.Errorf("an action is needed: pecspec lab up|status|stop|start|restart"))
	}
	switch args[0] {
	case "up":
		return cmdLabUp(args[1:])
	case lab.ActionStatus, lab.ActionStop, lab.ActionStart, lab.ActionRestart:
		return cmdLabControl(args[0], args[1:])
	}
	return usageError("lab", fmt.Errorf("unknown action %q (up, status, stop, start, restart)", args[0]))
}

// cmdLabUp runs `pecspec lab up`; while the lab is up it serves the
// control socket `lab status|stop|start|restart` talk to (labctl.go).
func cmdLabUp(args []string) int {
	var f labFlags
	rest, err := parseFlags(labFlagSet(&f), args)
	switch {
	case err != nil:
		return usageError("lab up", err)
	case len(rest) > 0:
		return usageError("lab up", fmt.Errorf("unexpected argument %q", rest[0]))
	case f.format != "text" && f.format != "json":
		return usageError("lab up", fmt.Errorf("unknown format %q (text or json)", f.format))
	}
	ctx, stop := interruptible()
	defer stop()
	l, err := lab.Up(ctx, lab.Options{Dir: f.dir, Pecref: f.pecref, Log: logger(f.verbose), Enrols: f.enrol,
		Ports: f.ports, Listen: f.listen})
	if err != nil {
		if cause := interrupted(ctx); cause != nil {
			return fail("lab up: %v during start-up", cause)
		}
		return fail("%s", oneLine(err))
	}
	ctl := serveControl(ctx, l)
	status := os.Stdout
	if f.format == "json" {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		err, status = enc.Encode(l.View()), os.Stderr
	} else {
		l.Describe(os.Stdout)
	}
	if err == nil {
		fmt.Fprintln(status, "\nlab is up; press Ctrl-C to stop it")
	}
	<-ctx.Done()
	if ctl != nil {
		ctl.Close() // before Down: no component starts again under it
	}
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
