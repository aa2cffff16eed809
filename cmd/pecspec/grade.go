package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/pecspec/pecspec/features"
	"github.com/pecspec/pecspec/report"
	"github.com/pecspec/pecspec/scenarios"
)

const gradeUsage = `usage: pecspec grade [flags] PATH...

Grade PEC messages offline against the rule catalogue (pecspec rules).
PATH is an .eml file or a folder: every .eml under it, but the probe's own
sent-*.eml (name one to grade it). With --transaction, PATH is a folder of one
transaction's messages (a scenario's evidence folder), or a folder holding
such folders (a run's evidence): each is graded with the transaction rules.
Flags may come before or after the paths.

Signatures: give the CAs providers' certificates chain to (--trust) or the
index of providers (--index, its certificates are anchors too); without
either, SIG-05 is an error unless --no-trust says not to verify chains.

flags:
  --trust PEM        trusted CA certificates, PEM bundle (SIG-05); repeatable
  --index SRC        index of PEC providers: ldap://host:port[/base], an LDIF
                     file or a signed .p7m (SIG-09, SIG-10, CRT-01, ACC-05,
                     PIC-02, VIR-02; its certificates are trust anchors)
  --no-trust         do not verify certificate chains (SIG-05 na; said first)
  --crl FILE         CRL, DER or PEM, for SIG-07; repeatable
  --transaction      grade folders as transactions
  --format FORMAT    text (default), json or junit

exit codes:
  0  no MUST rule failed and every verdict was decided
  1  a MUST rule failed (a conformance finding; the rule is named)
  2  usage or I/O error, nothing to grade, or a verdict the grader could not
     decide: error, or unknown (the signer's issuer is not among the anchors)

example:
  pecspec grade --trust ca.pem --index ldap://127.0.0.1:10389 out/evidence
`

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// gradeFlags are the flags of `pecspec grade`.
type gradeFlags struct {
	index, format string
	noTrust, tx   bool
	trust, crls   multiFlag
}

// cmdGrade runs `pecspec grade`: exit 1 if any MUST rule fails, 2 on a usage
// or I/O error, when nothing was graded, or when a verdict is undecided.
func cmdGrade(args []string) int {
	var f gradeFlags
	fs := newFlagSet("grade")
	fs.Var(&f.trust, "trust", "")
	fs.StringVar(&f.index, "index", "", "")
	fs.BoolVar(&f.noTrust, "no-trust", false, "")
	fs.Var(&f.crls, "crl", "")
	fs.BoolVar(&f.tx, "transaction", false, "")
	fs.StringVar(&f.format, "format", "text", "")
	paths, err := parseFlags(fs, args)
	switch {
	case err != nil:
		return usageError("grade", err)
	case len(paths) == 0:
		return usageError("grade", fmt.Errorf("no PATH"))
	case f.format != "text" && f.format != "json" && f.format != "junit":
		return usageError("grade", fmt.Errorf("unknown format %q (text, json or junit)", f.format))
	case f.noTrust && (len(f.trust) > 0 || f.index != ""):
		return usageError("grade", fmt.Errorf("--no-trust with --trust or --index: choose one"))
	}
	opts, err := gradeOptions(f)
	if err != nil {
		return fail("%v", err)
	}
	if f.noTrust && f.format == "text" {
		fmt.Println("chains not verified (--no-trust): SIG-05 is na, a signature by any certificate passes the other rules")
	}
	if f.tx {
		return gradeTransactions(paths, opts, f.format)
	}
	graded, err := report.GradeFiles(paths, opts)
	if err != nil {
		return fail("%v", err)
	}
	switch f.format {
	case "json":
		err = report.WriteJSON(os.Stdout, graded)
	case "junit":
		var suites []report.JUnitSuite
		for _, g := range graded {
			suites = append(suites, report.JUnitSuite{Name: g.File + " (" + string(g.Kind) + ")", Verdicts: g.Verdicts})
		}
		err = report.WriteJUnit(os.Stdout, suites)
	default:
		err = report.WriteText(os.Stdout, graded)
	}
	if err != nil {
		return fail("%v", err)
	}
	var failed, undecided []report.Verdict
	for _, g := range graded {
		failed, undecided = append(failed, g.MustFailures()...), append(undecided, g.Undecided()...)
	}
	return gradeExit(failed, undecided)
}

// gradeExit is the exit code of graded verdicts: 1 for a MUST failure; 2,
// with one line naming the first and what to do, when none failed but some
// could not be decided; 0 otherwise.
func gradeExit(failed, undecided []report.Verdict) int {
	switch {
	case len(failed) > 0:
		return exitFail
	case len(undecided) > 0:
		v := undecided[0]
		hint := "the grader could not decide"
		if v.Status == report.Unknown {
			hint = "add the issuing CA to --trust, or give --index"
		}
		return fail("%d verdicts undecided, first %s %s: %s (%s)", len(undecided), v.Rule, v.Status, v.Detail, hint)
	}
	return exitOK
}

func gradeTransactions(paths []string, opts report.Options, format string) int {
	dirs, err := report.TransactionDirs(paths)
	if err != nil {
		return fail("%v", err)
	}
	var all []report.GradedTx
	for _, d := range dirs {
		g, err := report.GradeTransactionDir(d, opts)
		if err != nil {
			return fail("%v", err)
		}
		all = append(all, g)
	}
	switch format {
	case "json":
		err = report.WriteTxJSON(os.Stdout, all)
	case "junit":
		var suites []report.JUnitSuite
		for _, g := range all {
			for _, m := range g.Messages {
				suites = append(suites, report.JUnitSuite{Name: m.File + " (" + string(m.Kind) + ")", Verdicts: m.Verdicts})
			}
			suites = append(suites, report.JUnitSuite{Name: g.Dir + " (transaction)", Verdicts: g.Transaction})
		}
		err = report.WriteJUnit(os.Stdout, suites)
	default:
		err = report.WriteTxText(os.Stdout, all)
	}
	if err != nil {
		return fail("%v", err)
	}
	var failed, undecided []report.Verdict
	for _, g := range all {
		failed, undecided = append(failed, g.MustFailures()...), append(undecided, g.Undecided()...)
	}
	return gradeExit(failed, undecided)
}

// gradeOptions reads the trust store, the index and the CRLs.
func gradeOptions(f gradeFlags) (report.Options, error) {
	opts := report.Options{NoTrust: f.noTrust}
	for _, file := range f.trust {
		pool, certs, err := report.LoadTrust(file)
		if err != nil {
			return opts, err
		}
		if opts.Trust == nil {
			opts.Trust = pool
		}
		for _, c := range certs {
			opts.Trust.AddCert(c)
		}
		opts.Anchors = append(opts.Anchors, certs...)
	}
	if f.index != "" {
		ix, err := report.LoadIndex(f.index)
		if err != nil {
			return opts, err
		}
		opts.Index = ix
	}
	for _, file := range f.crls {
		crl, err := report.LoadCRL(file)
		if err != nil {
			return opts, err
		}
		opts.CRLs = append(opts.CRLs, crl)
	}
	return opts, nil
}

// cmdRules runs `pecspec rules`.
func cmdRules(args []string) int {
	fs := newFlagSet("rules")
	format := fs.String("format", "text", "")
	coverage := fs.Bool("coverage", false, "")
	rest, err := parseFlags(fs, args)
	switch {
	case err != nil:
		return usageError("rules", err)
	case len(rest) > 0:
		return usageError("rules", fmt.Errorf("unexpected argument %q", rest[0]))
	case *format != "text" && *format != "json":
		return usageError("rules", fmt.Errorf("unknown format %q (text or json)", *format))
	}
	if *coverage {
		rows, err := scenarios.Coverage(features.FS)
		if err != nil {
			return fail("%v", err)
		}
		if *format == "json" {
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			err = enc.Encode(rows)
		} else {
			err = scenarios.WriteCoverage(os.Stdout, rows)
		}
		if err != nil {
			return fail("%v", err)
		}
		return exitOK
	}
	if err := report.WriteRules(os.Stdout, *format); err != nil {
		return fail("%v", err)
	}
	return exitOK
}
