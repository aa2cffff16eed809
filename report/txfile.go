package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pecspec/pecspec/pec"
)

// ManifestName is the file the suite writes next to a scenario's evidence:
// what was submitted and where each captured message was read, so that
// `pecspec grade --transaction DIR` judges the transaction offline exactly as
// the run did.
const ManifestName = "transaction.json"

// Manifest is the content of transaction.json.
type Manifest struct {
	Submission Submission      `json:"submission"`
	Messages   []ManifestEntry `json:"messages"`
}

// ManifestEntry is one captured message: its file (relative to the
// directory), the mailbox it was read from, and whether that mailbox is a
// provider's service mailbox.
type ManifestEntry struct {
	File    string `json:"file"`
	Mailbox string `json:"mailbox"`
	Service bool   `json:"service,omitempty"`
	AtMX    bool   `json:"at_mx,omitempty"`
}

// GradedTx is one transaction graded: each message, then the transaction rules.
type GradedTx struct {
	Dir         string    `json:"dir"`
	Messages    []Graded  `json:"messages"`
	Transaction []Verdict `json:"transaction"`
}

// MustFailures returns the failed verdicts of the messages and the transaction.
func (g GradedTx) MustFailures() []Verdict {
	out := mustFailures(g.Transaction)
	for _, m := range g.Messages {
		out = append(out, m.MustFailures()...)
	}
	return out
}

// Undecided returns the verdicts of the messages and the transaction the
// grader could not decide (error, unknown).
func (g GradedTx) Undecided() []Verdict {
	out := undecided(g.Transaction)
	for _, m := range g.Messages {
		out = append(out, m.Undecided()...)
	}
	return out
}

// TransactionDirs resolves the paths given to --transaction: a folder with
// captured messages (.eml but the probe's sent-*.eml) is one transaction;
// any other folder stands for the transaction folders under it (an evidence
// folder of a whole run, where a scenario that captured nothing is no
// transaction). No transaction at all is ErrNoFiles.
func TransactionDirs(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			if isTransactionDir(path) {
				out = append(out, path)
				return filepath.SkipDir
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no transaction folder (captured .eml files) in %s", ErrNoFiles, strings.Join(paths, ", "))
	}
	return out, nil
}

func isTransactionDir(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if !e.IsDir() && captured(e.Name()) {
			return true
		}
	}
	return false
}

// GradeTransactionDir grades a folder of captured messages as one transaction.
// With a transaction.json the submission and mailboxes come from it; without,
// every .eml but the probe's sent-*.eml is taken, the submission is read from
// the accettazione (or the envelope) and each message's mailbox is its first
// To address — the service flag is then unknown (PIC-03 cannot see it).
func GradeTransactionDir(dir string, opts Options) (GradedTx, error) {
	out := GradedTx{Dir: dir}
	var m Manifest
	data, err := os.ReadFile(filepath.Join(dir, ManifestName))
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &m); err != nil {
			return out, fmt.Errorf("report: %s: %w", filepath.Join(dir, ManifestName), err)
		}
	case errors.Is(err, fs.ErrNotExist):
		m, err = inferManifest(dir)
		if err != nil {
			return out, err
		}
	default:
		return out, fmt.Errorf("report: %w", err)
	}
	var caps []Captured
	for _, e := range m.Messages {
		raw, err := os.ReadFile(filepath.Join(dir, e.File))
		if err != nil {
			return out, fmt.Errorf("report: %w", err)
		}
		g := Grade(raw, opts)
		g.File = filepath.Join(dir, e.File)
		out.Messages = append(out.Messages, g)
		caps = append(caps, Captured{Mailbox: strings.ToLower(e.Mailbox), Service: e.Service, AtMX: e.AtMX, Raw: raw})
	}
	if len(caps) == 0 {
		return out, fmt.Errorf("report: %s: no captured message", dir)
	}
	out.Transaction = GradeTransaction(m.Submission, caps, opts)
	return out, nil
}

func inferManifest(dir string) (Manifest, error) {
	var m Manifest
	entries, err := os.ReadDir(dir)
	if err != nil {
		return m, fmt.Errorf("report: %w", err)
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && captured(n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		raw, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return m, fmt.Errorf("report: %w", err)
		}
		x := newMsg(raw, Options{})
		to := addrs(x.M.Outer, "To")
		mb := ""
		if len(to) > 0 {
			mb = to[0]
		}
		m.Messages = append(m.Messages, ManifestEntry{File: n, Mailbox: mb})
		if d := x.dc; d != nil && m.Submission.Sender == "" &&
			(x.Kind == pec.KindAccettazione || x.Kind == pec.KindTrasporto || x.Kind == pec.KindNonAccettazione) {
			m.Submission.Sender = strings.ToLower(d.Mittente)
			m.Submission.MessageID = deref(d.Msgid)
			m.Submission.To = d.addrs()
		}
	}
	return m, nil
}
