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

flags:
  --dir DIR           work directory (default .lab): keys, tokens, data, logs
  --enrol FILE        enrolment file of a provider under test; repeat it to
                      enrol several (pecspec matrix runs them pairwise)
  --ports BASE        fixed port layout: every endpoint at BASE+offset
                      (default 0: free ports)
  --listen ADDR       the lab's address (default 127.0.0.1); each domain's MX
                      listens on one of the four addresses after it
  --format text|json  the printout: tables (default) or one JSON object on
                      standard output (then "lab is up" goes to standard error)
  --pecref PATH       pecref binary (default: next to pecspec, then $PATH)
  -v                  log the start-up steps

exit codes:
  0  the lab ran and was stopped
  2  it could not start (one line naming the part and why), a lab already
     runs in DIR, or a usage error

examples:
  pecspec lab up
  pecspec lab up --format json > lab.json
  pecspec lab up --dir .lab --enrol put.yaml --ports 20000
  pecspec lab up --dir .lab --enrol acme.yaml --enrol other.yaml
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
// describes joins the lab (docs/testing-your-provider.md).
func cmdLab(args []string) int {
	if len(args) == 0 || args[0] != "up" {
		return usageError("lab", fmt.Errorf("the only action is up: pecspec lab up [flags]"))
	}
	var f labFlags
	rest, err := parseFlags(labFlagSet(&f), args[1:])
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
