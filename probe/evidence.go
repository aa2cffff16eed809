package probe

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/pecspec/pecspec/pec"
)

// Evidence keeps every message a run captures, byte-exact, as
// <out>/evidence/<scenario-slug>/<nn>-<kind>.eml (the run's output contract).
type Evidence struct {
	Out string // the reports directory; files go under Out/evidence
	mu  sync.Mutex
	n   map[string]int
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// Slug turns a scenario name into a directory name: lowercase [a-z0-9-].
func Slug(name string) string {
	s := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(s) > 80 {
		s = strings.TrimRight(s[:80], "-")
	}
	if s == "" {
		s = "scenario"
	}
	return s
}

// next numbers the next file of a kind in a scenario's folder: captures
// (slug) or sent messages (slug+"/sent"). The first call counts what the
// folder already holds, so a resumed run goes on numbering, never
// overwriting an earlier run's evidence.
func (e *Evidence) next(slug string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == nil {
		e.n = map[string]int{}
	}
	if _, ok := e.n[slug]; !ok {
		dir, pattern := slug, "[0-9][0-9]-*.eml"
		if base, ok := strings.CutSuffix(slug, "/sent"); ok {
			dir, pattern = base, "sent-*.eml"
		}
		had, _ := filepath.Glob(filepath.Join(e.Out, "evidence", dir, pattern))
		e.n[slug] = len(had)
	}
	e.n[slug]++
	return e.n[slug]
}

// Save writes a captured message and returns its path relative to Out.
func (e *Evidence) Save(scenario string, kind pec.Kind, raw []byte) (string, error) {
	slug := Slug(scenario)
	return e.write(slug, fmt.Sprintf("%02d-%s.eml", e.next(slug), kind), raw)
}

// SaveFile writes any other evidence (an index record, a signed LDIF) under
// its own name in the scenario's folder.
func (e *Evidence) SaveFile(scenario, name string, data []byte) (string, error) {
	return e.write(Slug(scenario), name, data)
}

// SaveSent writes a message the probe submitted, as sent-<nn>.eml.
func (e *Evidence) SaveSent(scenario string, raw []byte) (string, error) {
	slug := Slug(scenario)
	return e.write(slug, fmt.Sprintf("sent-%02d.eml", e.next(slug+"/sent")), raw)
}

func (e *Evidence) write(slug, name string, raw []byte) (string, error) {
	rel := filepath.Join("evidence", slug, name)
	if err := os.MkdirAll(filepath.Join(e.Out, "evidence", slug), 0o755); err != nil {
		return "", fmt.Errorf("probe: evidence: %w", err)
	}
	if err := os.WriteFile(filepath.Join(e.Out, rel), raw, 0o644); err != nil {
		return "", fmt.Errorf("probe: evidence: %w", err)
	}
	return rel, nil
}

// SaveJSON writes v as <out>/evidence/<scenario-slug>/<name>, indented (the
// transaction manifest that `pecspec grade --transaction` reads).
func (e *Evidence) SaveJSON(scenario, name string, v any) (string, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", fmt.Errorf("probe: evidence: %w", err)
	}
	return e.write(Slug(scenario), name, append(data, '\n'))
}
