package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dispatchOut runs pecspec with args and returns the exit code and what it
// printed on standard output and standard error.
func dispatchOut(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	dir := t.TempDir()
	o, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	defer e.Close()
	so, se := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = o, e
	code = dispatch(args)
	os.Stdout, os.Stderr = so, se
	out, _ := os.ReadFile(o.Name())
	errOut, _ := os.ReadFile(e.Name())
	return code, string(out), string(errOut)
}

// TestHelp: `pecspec help`, `help COMMAND`, `COMMAND -h` and `--help`
// (also after other arguments, and for the actions log verify and lab up)
// print a complete usage on standard output and exit 0; an unknown command
// is one line, exit 2.
func TestHelp(t *testing.T) {
	code, out, _ := dispatchOut(t, "help")
	if code != exitOK || !strings.Contains(out, "exit codes") {
		t.Fatalf("pecspec help: exit %d\n%s", code, out)
	}
	for _, c := range commands {
		if !strings.Contains(out, "  "+c.name+" ") {
			t.Errorf("pecspec help does not list %s", c.name)
		}
	}
	for _, args := range [][]string{{"help", "run"}, {"run", "-h"}, {"run", "--help"}, {"grade", "-h"}, {"grade", "x.eml", "--help"},
		{"log", "verify", "-h"}, {"log", "export", "DIR", "--help"}, {"lab", "up", "-h"}, {"lab", "--help"}, {"lab", "stop", "beta", "-h"}, {"rules", "-h"},
		{"version", "--help"}, {"-h"}, {"--help"}} {
		code, out, errOut := dispatchOut(t, args...)
		if code != exitOK || !strings.HasPrefix(out, "usage: pecspec") && !strings.HasPrefix(out, "pecspec: the") || errOut != "" {
			t.Errorf("pecspec %s: exit %d, stdout %.60q, stderr %q", strings.Join(args, " "), code, out, errOut)
		}
	}
	for _, args := range [][]string{{"help", "nosuch"}, {"nosuch"}, {"nosuch", "-h"}} {
		code, out, errOut := dispatchOut(t, args...)
		if code != exitHarness || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, `"nosuch"`) {
			t.Errorf("pecspec %s: exit %d, stdout %q, stderr %q; want one line, exit 2", strings.Join(args, " "), code, out, errOut)
		}
	}
}

// TestUsageComplete: the usage of each command this file set owns names
// every flag its parser accepts, its arguments, its exit codes and an
// example.
func TestUsageComplete(t *testing.T) {
	var rf runFlags
	var lf labFlags
	sets := map[string]*flag.FlagSet{"run": runFlagSet(&rf), "lab": labFlagSet(&lf)}
	for name, parse := range map[string]func(*flag.FlagSet){
		"matrix": func(fs *flag.FlagSet) { matrixFlagSet(fs, &matrixFlags{}) },
		"load":   func(fs *flag.FlagSet) { loadFlagSet(fs, &loadFlags{}) },
	} {
		fs := newFlagSet(name)
		parse(fs)
		sets[name] = fs
	}
	for name, fs := range sets {
		c, _ := lookup(name)
		fs.VisitAll(func(f *flag.Flag) {
			if !strings.Contains(c.usage, "-"+f.Name+" ") {
				t.Errorf("pecspec help %s does not describe -%s", name, f.Name)
			}
		})
	}
	for _, c := range commands {
		for _, part := range []string{"usage: pecspec " + c.name, "exit codes:", "  0  ", "  2  ", "example"} {
			if !strings.Contains(c.usage, part) {
				t.Errorf("pecspec help %s lacks %q", c.name, part)
			}
		}
	}
	for _, part := range []string{"--from", "--to", "--user", "--format", "DIR"} {
		if !strings.Contains(logUsage, part) {
			t.Errorf("pecspec help log lacks %q", part)
		}
	}
}

// TestUsageErrors: a bad command line is one line on standard error naming
// what is wrong, exit 2, before anything starts.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--bogus"}, "-bogus"},
		{[]string{"run", "--concurrency", "0"}, "--concurrency 0"},
		{[]string{"run", "--concurrency", "-3"}, "--concurrency -3"},
		{[]string{"run", "--format", "xml"}, `"xml"`},
		{[]string{"run", "stray"}, `"stray"`},
		{[]string{"lab", "up", "--bogus"}, "-bogus"},
		{[]string{"lab", "up", "--format", "yaml"}, `"yaml"`},
		{[]string{"lab", "down"}, `unknown action "down"`},
		{[]string{"lab", "stop"}, "which component?"},
		{[]string{"lab", "start", "a", "b"}, `"b"`},
		{[]string{"lab", "status", "--format", "xml"}, `"xml"`},
		{[]string{"log", "export", "--from"}, "-from"},
		{[]string{"log", "verify"}, "one registro directory"},
		{[]string{"log", "verify", "a", "b"}, "one registro directory"},
		{[]string{"log", "rotate"}, `"rotate"`},
		{[]string{"version", "--short"}, "-short"},
	} {
		code, out, errOut := dispatchOut(t, tc.args...)
		if code != exitHarness || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("pecspec %s: exit %d, stdout %q, stderr %q; want one line with %q, exit 2",
				strings.Join(tc.args, " "), code, out, errOut, tc.want)
		}
	}
}

// TestFilesCheckedFirst: a target file with a misspelt key and a bad
// expect file are refused on one line naming the problem, exit 2, before
// any lab starts (no out/lab).
func TestFilesCheckedFirst(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "put.yaml")
	os.WriteFile(target, []byte("name: acme\ndomains: [pec.acme.test]\nsubmision: {host: 127.0.0.1, port: 465}\n"), 0o600)
	expect := filepath.Join(dir, "expect.yaml")
	os.WriteFile(expect, []byte("- rule: GEN-15\n  reson: typo\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--target", target, "--out", filepath.Join(dir, "out1")}, `line 3: unknown key "submision"`},
		{[]string{"run", "--expect", expect, "--out", filepath.Join(dir, "out2")}, `line 2: unknown key "reson"`},
	} {
		code, _, errOut := dispatchOut(t, tc.args...)
		if code != exitHarness || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("pecspec %s: exit %d, stderr %q; want one line with %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out2", "lab")); err == nil {
		t.Error("the lab started before the expect file was checked")
	}
}

// TestFlagsAfterArguments: log export reads flags placed after DIR.
func TestFlagsAfterArguments(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := dispatchOut(t, "log", "export", dir, "--format", "xml")
	if code != exitHarness || !strings.Contains(errOut, `unknown format "xml"`) {
		t.Errorf("log export DIR --format xml: exit %d, %q: the flag after DIR was not read", code, errOut)
	}
}

// TestVersion: --version and pecspec version print one line naming the
// build; --format json the fields.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		code, out, _ := dispatchOut(t, args...)
		if code != exitOK || !strings.HasPrefix(out, "pecspec ") || !strings.Contains(out, "commit") || strings.Count(out, "\n") != 1 {
			t.Errorf("pecspec %s: exit %d, %q", args[0], code, out)
		}
	}
	code, out, _ := dispatchOut(t, "version", "--format", "json")
	if code != exitOK || !strings.Contains(out, `"module": "github.com/pecspec/pecspec"`) {
		t.Errorf("version --format json: exit %d, %s", code, out)
	}
}
