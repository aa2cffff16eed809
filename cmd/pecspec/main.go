// Command pecspec is the PEC conformance harness: it starts the reference lab,
// runs the Gherkin suite against a target provider, and grades messages
// against the rule catalogue of pec-rules §9.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// command is one subcommand: flags → packages (STYLE 1). usage is its
// complete help (synopsis, arguments, flags, exit codes, an example),
// printed by `pecspec help NAME`, `pecspec NAME -h` and `--help`; it lives
// beside the command's code.
type command struct {
	name    string
	run     func(args []string) int
	summary string // one line of `pecspec help`
	usage   string
}

var commands = []command{
	{"lab", cmdLab, "start the reference lab (and enrol providers under test); stop, start, restart its parts", labUsage},
	{"run", cmdRun, "run the suite against the reference or a provider under test", runUsage},
	{"matrix", cmdMatrix, "run every ordered pair of the lab's providers: the interoperability matrix", matrixUsage},
	{"report", cmdReport, "join the outputs of the shards of a run or of a matrix (report merge)", reportUsage},
	{"load", cmdLoad, "measure a provider's service levels under an open-loop load", loadUsage},
	{"grade", cmdGrade, "grade PEC messages, or transaction folders, offline", gradeUsage},
	{"rules", cmdRules, "list the rule catalogue, or its coverage by the scenarios", rulesUsage},
	{"log", cmdLog, "verify or export a reference provider's registro", logUsage},
	{"version", cmdVersion, "print the harness's version and commit", versionUsage},
}

// Exit codes of every subcommand.
const (
	exitOK      = 0 // everything passed
	exitFail    = 1 // a conformance failure (a MUST rule failed, a scenario failed)
	exitHarness = 2 // usage, configuration, I/O: the harness could not decide
)

func main() { os.Exit(dispatch(os.Args[1:])) }

// dispatch runs the command args name; help is asked with `help NAME`,
// `NAME -h`, `NAME --help`, anywhere before a "--".
func dispatch(args []string) int {
	if len(args) == 0 {
		overview(os.Stderr)
		return exitHarness
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		return help(args[1:])
	case "-version", "--version":
		return cmdVersion(args[1:])
	}
	c, ok := lookup(args[0])
	if !ok {
		return fail("unknown command %q (pecspec help lists them)", args[0])
	}
	if wantsHelp(args[1:]) {
		fmt.Print(c.usage)
		return exitOK
	}
	return c.run(args[1:])
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// help prints the overview, or one command's usage.
func help(args []string) int {
	switch {
	case len(args) == 0:
		overview(os.Stdout)
		return exitOK
	case len(args) > 1:
		return fail("help: one command at a time (pecspec help COMMAND)")
	}
	c, ok := lookup(args[0])
	if !ok {
		return fail("help: unknown command %q (pecspec help lists them)", args[0])
	}
	fmt.Print(c.usage)
	return exitOK
}

func overview(w io.Writer) {
	fmt.Fprint(w, `pecspec: the conformance and interoperability harness for Italian certified email (PEC)

usage: pecspec COMMAND [flags] [arguments]

commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `  help     the complete usage of a command: pecspec help COMMAND, or pecspec COMMAND -h

exit codes (every command):
  0  pass
  1  a conformance finding (it names its rule of pec-rules §9)
  2  a harness error: usage, configuration, an endpoint unreachable, interrupted

examples:
  pecspec run                     the suite against the reference lab; reports in out/
  pecspec lab up --enrol put.yaml a lab for your provider: docs/testing-your-provider.md
  pecspec --version
`)
}

// fail prints a one-line reason and returns the harness exit code.
func fail(format string, a ...any) int {
	fmt.Fprintf(os.Stderr, "pecspec: %s\n", oneLine(fmt.Errorf(format, a...)))
	return exitHarness
}

// usageError is a bad command line: one line naming the problem and where
// the usage is, exit 2.
func usageError(cmd string, err error) int {
	return fail("%s: %v (pecspec help %s)", cmd, err, strings.Fields(cmd)[0])
}

// oneLine joins an error's lines (errors.Join lists one per line).
func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
