package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/reference/txlog"
)

const logUsage = `usage: pecspec log verify DIR
       pecspec log export [flags] DIR

Check or extract the registro of a reference provider: its transaction log
(RFC 6109 §2.3), append-only records chained by hash. DIR is the registro
directory of an instance, data/registro/ under the instance's directory
(.lab/alpha/data/registro for the lab's alpha).

verify follows the chain from the first record to the last and says whether
a record was edited, removed, reordered or truncated.
export writes the records of a period, optionally of one user, to standard
output (RFC 6109 §4.2: a registro must be searchable by period and user).

flags of export:
  --from T            first instant, RFC 3339 or YYYY-MM-DD (inclusive; a
                      date is midnight in Italian legal time)
  --to T              end instant, the same forms (exclusive)
  --user ADDR         only the records whose sender, recipients or consegna
                      is ADDR
  --format json|csv   one JSON object per line (default), or CSV

exit codes:
  0  verify: the chain is intact; export: the records were written
  1  verify: the registro was altered (the first broken record is named)
  2  usage error, or the registro could not be read

examples:
  pecspec log verify .lab/alpha/data/registro
  pecspec log export --from 2026-01-01 --user alice@pec.alpha.test --format csv .lab/alpha/data/registro
`

// cmdLog runs `pecspec log`: verify checks a registro's hash chain (exit 1 when
// it was altered); export writes the records of a period, optionally of one
// user, to standard output (RFC 6109 §2.3; LOG-01, LOG-02).
func cmdLog(args []string) int {
	if len(args) == 0 {
		return usageError("log", errors.New("verify DIR or export [flags] DIR"))
	}
	switch args[0] {
	case "verify":
		return logVerify(args[1:])
	case "export":
		return logExport(args[1:])
	}
	return usageError("log", fmt.Errorf("unknown action %q: verify or export", args[0]))
}

func logVerify(args []string) int {
	rest, err := parseFlags(newFlagSet("log verify"), args)
	switch {
	case err != nil:
		return usageError("log verify", err)
	case len(rest) != 1:
		return usageError("log verify", errors.New("one registro directory: pecspec log verify DIR"))
	}
	head, err := txlog.Verify(rest[0])
	if err != nil {
		return logFailure(err)
	}
	fmt.Printf("registro %s: %d records, chain intact, head %s\n", rest[0], head.Seq, head.Hash)
	return exitOK
}

func logExport(args []string) int {
	fs := newFlagSet("log export")
	from := fs.String("from", "", "")
	to := fs.String("to", "", "")
	user := fs.String("user", "", "")
	format := fs.String("format", "json", "")
	rest, err := parseFlags(fs, args)
	switch {
	case err != nil:
		return usageError("log export", err)
	case len(rest) != 1:
		return usageError("log export", errors.New("one registro directory: pecspec log export [flags] DIR"))
	case *format != "json" && *format != "csv":
		return usageError("log export", fmt.Errorf("unknown format %q (json or csv)", *format))
	}
	f := txlog.Filter{User: *user}
	if f.From, err = parseInstant(*from); err != nil {
		return fail("log export: --from: %v", err)
	}
	if f.To, err = parseInstant(*to); err != nil {
		return fail("log export: --to: %v", err)
	}
	n, err := txlog.Export(rest[0], f, *format, os.Stdout)
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
