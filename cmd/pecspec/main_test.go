package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestExitCodes: grade exits 0 without a MUST failure, 1 with one, 2 on a
// usage or I/O error; rules lists the catalogue.
func TestExitCodes(t *testing.T) {
	corpus := "../../../shared/corpus"
	if _, err := os.Stat(corpus); err != nil {
		t.Skip("corpus not found")
	}
	devnull, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	stdout := os.Stdout
	os.Stdout = devnull
	defer func() { os.Stdout = stdout }()
	for _, tc := range []struct {
		name string
		run  func([]string) int
		args []string
		want int
	}{
		{"real message", cmdGrade, []string{"--no-trust", filepath.Join(corpus, "sogei-2018-trasporto.eml")}, exitOK},
		{"edited after signing", cmdGrade, []string{filepath.Join(corpus, "edited-sogei-trasporto-altered-content.eml")}, exitFail},
		{"directory", cmdGrade, []string{"--format", "json", corpus}, exitFail},
		{"missing file", cmdGrade, []string{"/nonexistent.eml"}, exitHarness},
		{"no arguments", cmdGrade, nil, exitHarness},
		{"bad format", cmdGrade, []string{"--format", "xml", corpus}, exitHarness},
		{"rules", cmdRules, []string{"--format", "json"}, exitOK},
		{"lab usage", cmdLab, []string{"down"}, exitHarness},
	} {
		if got := tc.run(tc.args); got != tc.want {
			t.Errorf("%s: exit %d, want %d", tc.name, got, tc.want)
		}
	}
}
