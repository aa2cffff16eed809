// Command pecspec is the PEC conformance harness: it starts the reference lab,
// runs the Gherkin suite against a target provider, and grades messages
// against the rule catalogue of pec-rules §9.
package main

import (
	"fmt"
	"os"
	"strings"
)

// command is one subcommand: flags → packages (STYLE 1).
type command struct {
	name string
	run  func(args []string) int
	help string
}

var commands = []command{
	{"lab", cmdLab, "lab up [--dir DIR] [--enrol PUT.yaml]... [--ports BASE] [--listen ADDR]: start the reference lab, print its endpoints (and, enrolled, what each provider under test configures)"},
	{"run", cmdRun, "run [--target reference|FILE.yaml] [--lab DIR] [--tags EXPR] [--out DIR] [--expect FILE] [--timeout D] [--shard I/N]: run the suite"},
	{"matrix", cmdMatrix, "matrix [--lab DIR] [--out DIR] [--concurrency N] [--expect NAME=FILE]... [--shard I/N] [PROVIDER...]: every ordered pair of providers (the interoperability matrix)"},
	{"report", cmdReport, "report merge [--out DIR] DIR...: join the outputs of the shards of a run or a matrix"},
	{"grade", cmdGrade, "grade [--trust PEM] [--index URL|LDIF] [--crl FILE] [--transaction] [--format text|json|junit] PATH...: grade .eml files or transaction folders offline"},
	{"log", cmdLog, "log verify DIR | log export [--from T] [--to T] [--user ADDR] [--format json|csv] DIR: check or extract a reference registro"},
	{"load", cmdLoad, loadUsage},
	{"rules", cmdRules, "rules [--format text|json] [--coverage]: list the rule catalogue, or every rule of pec-rules §9 with the scenarios that grade it"},
}

// Exit codes of every subcommand.
const (
	exitOK      = 0 // everything passed
	exitFail    = 1 // a conformance failure (a MUST rule failed, a scenario failed)
	exitHarness = 2 // usage, configuration, I/O: the harness could not decide
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(exitHarness)
	}
	for _, c := range commands {
		if c.name == os.Args[1] {
			os.Exit(c.run(os.Args[2:]))
		}
	}
	if os.Args[1] == "help" || os.Args[1] == "-h" || os.Args[1] == "--help" {
		usage()
		os.Exit(exitOK)
	}
	fmt.Fprintf(os.Stderr, "pecspec: unknown command %q\n", os.Args[1])
	usage()
	os.Exit(exitHarness)
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: pecspec COMMAND [flags]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(os.Stderr, "  %s\n", c.help)
	}
	fmt.Fprintln(os.Stderr, "\nexit codes: 0 pass, 1 conformance failure, 2 harness error")
}

// fail prints a one-line reason and returns the harness exit code.
func fail(format string, a ...any) int {
	fmt.Fprintf(os.Stderr, "pecspec: %s\n", oneLine(fmt.Errorf(format, a...)))
	return exitHarness
}

// oneLine joins an error's lines (errors.Join lists one per line).
func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
