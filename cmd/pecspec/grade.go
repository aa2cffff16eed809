package main

import (
	"crypto/x509"
	"flag"
	"os"

	"github.com/pecspec/pecspec/report"
)

// cmdGrade runs `pecspec grade`: exit 1 if any MUST rule fails.
func cmdGrade(args []string) int {
	fs := flag.NewFlagSet("grade", flag.ContinueOnError)
	trust := fs.String("trust", "", "PEM bundle of trusted CAs for signer certificates")
	format := fs.String("format", "text", "text or json")
	if err := fs.Parse(args); err != nil {
		return exitHarness
	}
	if fs.NArg() == 0 {
		return fail("usage: pecspec grade [--trust PEM] [--format text|json] PATH...")
	}
	if *format != "text" && *format != "json" {
		return fail("unknown format %q (text or json)", *format)
	}
	opts := report.Options{}
	if *trust != "" {
		pem, err := os.ReadFile(*trust)
		if err != nil {
			return fail("trust: %v", err)
		}
		opts.Trust = x509.NewCertPool()
		if !opts.Trust.AppendCertsFromPEM(pem) {
			return fail("trust %s: no PEM certificate", *trust)
		}
	}
	graded, err := report.GradeFiles(fs.Args(), opts)
	if err != nil {
		return fail("%v", err)
	}
	if *format == "json" {
		err = report.WriteJSON(os.Stdout, graded)
	} else {
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

// cmdRules runs `pecspec rules`.
func cmdRules(args []string) int {
	fs := flag.NewFlagSet("rules", flag.ContinueOnError)
	format := fs.String("format", "text", "text or json")
	if err := fs.Parse(args); err != nil {
		return exitHarness
	}
	if *format != "text" && *format != "json" {
		return fail("unknown format %q (text or json)", *format)
	}
	if err := report.WriteRules(os.Stdout, *format); err != nil {
		return fail("%v", err)
	}
	return exitOK
}
