package main

import (
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/pecspec/pecspec/features"
	"github.com/pecspec/pecspec/report"
	"github.com/pecspec/pecspec/scenarios"
)

const gradeUsage = "usage: pecspec grade [--trust PEM] [--index URL|LDIF] [--crl FILE]... [--transaction] [--format text|json|junit] PATH..."

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// cmdGrade runs `pecspec grade`: exit 1 if any MUST rule fails, 2 on a usage
// or I/O error.
func cmdGrade(args []string) int {
	fs := flag.NewFlagSet("grade", flag.ContinueOnError)
	trust := fs.String("trust", "", "PEM bundle of trusted CAs for signer certificates (SIG-05)")
	index := fs.String("index", "", "index of PEC providers: ldap://host:port[/base], an LDIF file or a signed .p7m (SIG-09, SIG-10, CRT-01, ACC-05, PIC-02, VIR-02)")
	var crls multiFlag
	fs.Var(&crls, "crl", "CRL file (DER or PEM) for SIG-07; repeatable")
	tx := fs.Bool("transaction", false, "each PATH is a directory of one transaction's messages: grade them and the transaction rules")
	format := fs.String("format", "text", "text, json or junit")
	if err := fs.Parse(args); err != nil {
		return exitHarness
	}
	if fs.NArg() == 0 {
		return fail(gradeUsage)
	}
	if *format != "text" && *format != "json" && *format != "junit" {
		return fail("unknown format %q (text, json or junit)", *format)
	}
	opts, err := gradeOptions(*trust, *index, crls)
	if err != nil {
		return fail("%v", err)
	}
	if *tx {
		return gradeTransactions(fs.Args(), opts, *format)
	}
	graded, err := report.GradeFiles(fs.Args(), opts)
	if err != nil {
		return fail("%v", err)
	}
	switch *format {
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
	for _, g := range graded {
		if len(g.MustFailures()) > 0 {
			return exitFail
		}
	}
	return exitOK
}

func gradeTransactions(dirs []string, opts report.Options, format string) int {
	var all []report.GradedTx
	for _, d := range dirs {
		g, err := report.GradeTransactionDir(d, opts)
		if err != nil {
			return fail("%v", err)
		}
		all = append(all, g)
	}
	var err error
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
	for _, g := range all {
		if len(g.MustFailures()) > 0 {
			return exitFail
		}
	}
	return exitOK
}

// gradeOptions reads the trust store, the index and the CRLs.
func gradeOptions(trust, index string, crls []string) (report.Options, error) {
	var opts report.Options
	if trust != "" {
		data, err := os.ReadFile(trust)
		if err != nil {
			return opts, fmt.Errorf("trust: %w", err)
		}
		opts.Trust = x509.NewCertPool()
		if !opts.Trust.AppendCertsFromPEM(data) {
			return opts, fmt.Errorf("trust %s: no PEM certificate", trust)
		}
	}
	if index != "" {
		ix, err := report.LoadIndex(index)
		if err != nil {
			return opts, err
		}
		opts.Index = ix
	}
	for _, f := range crls {
		crl, err := report.LoadCRL(f)
		if err != nil {
			return opts, err
		}
		opts.CRLs = append(opts.CRLs, crl)
	}
	return opts, nil
}

// cmdRules runs `pecspec rules`.
func cmdRules(args []string) int {
	fs := flag.NewFlagSet("rules", flag.ContinueOnError)
	format := fs.String("format", "text", "text or json")
	coverage := fs.Bool("coverage", false, "every rule of pec-rules §9 with the scenarios whose tags grade it")
	if err := fs.Parse(args); err != nil {
		return exitHarness
	}
	if *format != "text" && *format != "json" {
		return fail("unknown format %q (text or json)", *format)
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
