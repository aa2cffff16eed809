package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ErrNoFiles is returned when the paths given hold no message to grade.
var ErrNoFiles = errors.New("report: no message to grade")

// GradeFiles grades .eml files; directories recurse. In a directory the
// probe's own sent-*.eml (what it submitted, deliberately broken at times)
// are skipped: name one to grade it. File is the path as given (joined with
// the name for files found in a directory). No file at all is ErrNoFiles.
func GradeFiles(paths []string, opts Options) ([]Graded, error) {
	var out []Graded
	for _, p := range paths {
		files, err := messageFiles(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			g := Grade(raw, opts)
			g.File = f
			out = append(out, g)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no .eml file in %s (directories skip the probe's own sent-*.eml)", ErrNoFiles, strings.Join(paths, ", "))
	}
	return out, nil
}

// messageFiles lists the messages a path names: the file itself, or the
// .eml files under a directory but sent-*.eml, sorted.
func messageFiles(p string) ([]string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && captured(d.Name()) {
			files = append(files, path)
		}
		return err
	})
	sort.Strings(files)
	return files, err
}

// captured tells a captured message's file from the probe's own sent-*.eml.
func captured(name string) bool {
	return strings.HasSuffix(strings.ToLower(name), ".eml") && !strings.HasPrefix(name, "sent-")
}

// WriteText writes, per file, its kind and every verdict that is not a pass,
// then the totals.
func WriteText(w io.Writer, gs []Graded) error {
	total := map[Status]int{}
	for _, g := range gs {
		fmt.Fprintf(w, "%s: %s  (%s)\n", g.File, g.Kind, countLine(Counts(g.Verdicts)))
		for _, v := range g.Verdicts {
			total[v.Status]++
			writeVerdict(w, v)
		}
	}
	_, err := fmt.Fprintf(w, "%d files: %s\n", len(gs), countLine(total))
	return err
}

// countLine tallies the statuses, unknown only when there is one.
func countLine(c map[Status]int) string {
	line := fmt.Sprintf("%d pass, %d fail, %d warn, %d na, %d error", c[Pass], c[Fail], c[Warn], c[NA], c[Error])
	if c[Unknown] > 0 {
		line += fmt.Sprintf(", %d unknown", c[Unknown])
	}
	return line
}

// writeVerdict writes one verdict that is not a pass or na.
func writeVerdict(w io.Writer, v Verdict) {
	if v.Status != Pass && v.Status != NA {
		fmt.Fprintf(w, "  %-7s %s [%s, %s] %s\n", strings.ToUpper(string(v.Status)), v.Rule, v.Level, v.Section, v.Detail)
	}
}

// WriteJSON writes the list of graded files.
func WriteJSON(w io.Writer, gs []Graded) error {
	if gs == nil {
		gs = []Graded{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(gs)
}

// RuleInfo is a rule as `pecspec rules` lists it.
type RuleInfo struct {
	ID      string   `json:"id"`
	Level   Level    `json:"level"`
	Section string   `json:"section"`
	Title   string   `json:"title"`
	Kinds   []string `json:"kinds"`
	Multi   bool     `json:"multi,omitempty"`
	Note    string   `json:"note,omitempty"`
}

// WriteRules lists the catalogue as "text" or "json".
func WriteRules(w io.Writer, format string) error {
	var infos []RuleInfo
	for _, r := range Catalogue() {
		ri := RuleInfo{ID: r.ID, Level: r.Level, Section: r.Section, Title: r.Title, Multi: r.Multi, Note: r.Note}
		for _, k := range r.Kinds {
			ri.Kinds = append(ri.Kinds, string(k))
		}
		switch {
		case r.Multi:
			ri.Kinds = []string{"transaction"}
		case r.txCheck != nil:
			ri.Kinds = append(ri.Kinds, "transaction")
		}
		infos = append(infos, ri)
	}
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(infos)
	}
	for _, ri := range infos {
		fmt.Fprintf(w, "%-7s %-8s %-20s %s  [%s]\n", ri.ID, ri.Level, ri.Section, ri.Title, strings.Join(ri.Kinds, ","))
	}
	_, err := fmt.Fprintf(w, "%d rules\n", len(infos))
	return err
}

// WriteTxText writes each transaction: its messages as WriteText does, then
// the transaction verdicts that are not a pass.
func WriteTxText(w io.Writer, gs []GradedTx) error {
	for _, g := range gs {
		fmt.Fprintf(w, "== transaction %s\n", g.Dir)
		if err := WriteText(w, g.Messages); err != nil {
			return err
		}
		fmt.Fprintf(w, "transaction rules: %s\n", countLine(Counts(g.Transaction)))
		for _, v := range g.Transaction {
			writeVerdict(w, v)
		}
	}
	return nil
}

// WriteTxJSON writes the graded transactions.
func WriteTxJSON(w io.Writer, gs []GradedTx) error {
	if gs == nil {
		gs = []GradedTx{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(gs)
}
