package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/reference/txlog"
)

const logUsage = "usage: pecspec log verify DIR | pecspec log export [--from T] [--to T] [--user ADDR] [--format json|csv] DIR"

// cmdLog runs `pecspec log`: verify checks a registro's hash chain (exit 1 when
// it was altered); export writes the records of a period, optionally of one
// user, to standard output (RFC 6109 §2.3; LOG-01, LOG-02).
func cmdLog(args []string) int {
	if len(args) == 0 {
		return fail(logUsage)
	}
	switch args[0] {
	case "verify":
		return logVerify(args[1:])
	case "export":
		return logExport(args[1:])
	}
	return fail("log: unknown action %q\n%s", args[0], logUsage)
}

func logVerify(args []string) int {
	if len(args) != 1 {
		return fail(logUsage)
	}
	head, err := txlog.Verify(args[0])
	if err != nil {
		return logFailure(err)
	}
	fmt.Printf("registro %s: %d records, chain intact, head %s\n", args[0], head.Seq, head.Hash)
	return exitOK
}

func logExport(args []string) int {
	fs := flag.NewFlagSet("log export", flag.ContinueOnError)
	from := fs.String("from", "", "first instant, RFC 3339 or YYYY-MM-DD (inclusive)")
	to := fs.String("to", "", "end instant, RFC 3339 or YYYY-MM-DD (exclusive)")
	user := fs.String("user", "", "only the records whose sender, recipients or consegna is this address")
	format := fs.String("format", "json", "json (one object per line) or csv")
	if err := fs.Parse(args); err != nil {
		return exitHarness
	}
	if fs.NArg() != 1 {
		return fail(logUsage)
	}
	f := txlog.Filter{User: *user}
	var err error
	if f.From, err = parseInstant(*from); err != nil {
		return fail("log export: --from: %v", err)
	}
	if f.To, err = parseInstant(*to); err != nil {
		return fail("log export: --to: %v", err)
	}
	n, err := txlog.Export(fs.Arg(0), f, *format, os.Stdout)
	if err != nil {
		return logFailure(err)
	}
	fmt.Fprintf(os.Stderr, "pecspec: %d records exported\n", n)
	return exitOK
}

// logFailure is exit 1 for an altered registro (a finding), 2 for anything
// else (the harness could not read it).
func logFailure(err error) int {
	if errors.Is(err, txlog.ErrTampered) {
		fmt.Fprintf(os.Stderr, "pecspec: %v\n", err)
		return exitFail
	}
	return fail("%v", err)
}

// parseInstant reads RFC 3339 or a date (midnight in Italian legal time, the
// time the registro's users reason in: RFC 6109 §4.2).
func parseInstant(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.ParseInLocation("2006-01-02", s, pec.Rome)
}
