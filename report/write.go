package report

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// GradeFiles grades .eml files; directories recurse. File is the path as
// given (joined with the name for files found in a directory).
func GradeFiles(paths []string, opts Options) ([]Graded, error) {
	var out []Graded
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		var files []string
		if st.IsDir() {
			err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() && strings.HasSuffix(strings.ToLower(path), ".eml") {
					files = append(files, path)
				}
				return err
			})
			if err != nil {
				return nil, err
			}
			sort.Strings(files)
		} else {
			files = []string{p}
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
	return out, nil
}

// WriteText writes, per file, its kind and every verdict that is not a pass,
// then the totals.
func WriteText(w io.Writer, gs []Graded) error {
	total := map[Status]int{}
	for _, g := range gs {
		c := Counts(g.Verdicts)
		fmt.Fprintf(w, "%s: %s  (%d pass, %d fail, %d warn, %d na, %d error)\n", g.File, g.Kind,
			c[Pass], c[Fail], c[Warn], c[NA], c[Error])
		for _, v := range g.Verdicts {
			total[v.Status]++
			if v.Status == Pass || v.Status == NA {
				continue
			}
			fmt.Fprintf(w, "  %-5s %s [%s, %s] %s\n", strings.ToUpper(string(v.Status)), v.Rule, v.Level, v.Section, v.Detail)
		}
	}
	_, err := fmt.Fprintf(w, "%d files: %d pass, %d fail, %d warn, %d na, %d error\n", len(gs),
		total[Pass], total[Fail], total[Warn], total[NA], total[Error])
	return err
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
		if r.Multi {
			ri.Kinds = []string{"transaction"}
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
		c := Counts(g.Transaction)
		fmt.Fprintf(w, "transaction rules: %d pass, %d fail, %d warn, %d na, %d error\n", c[Pass], c[Fail], c[Warn], c[NA], c[Error])
		for _, v := range g.Transaction {
			if v.Status != Pass && v.Status != NA {
				fmt.Fprintf(w, "  %-5s %s [%s, %s] %s\n", strings.ToUpper(string(v.Status)), v.Rule, v.Level, v.Section, v.Detail)
			}
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
