package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Shard is one part of a run split over several machines or CI jobs
// (--shard i/n): the scenarios the tag expression selects, in the order of
// their feature files and lines, are dealt round-robin over n shards and
// shard i runs the i-th share. Every shard of the same suite and tags
// computes the same split, so shards 1…n together run each selected
// scenario exactly once; `pecspec report merge` joins their outputs. A
// Scenario Outline is one scenario: its examples stay together.
type Shard struct {
	Index int `json:"index"` // 1…Count
	Count int `json:"count"`
}

// ParseShard reads "i/n" (1 ≤ i ≤ n); "" is the whole run.
func ParseShard(s string) (Shard, error) {
	if s == "" {
		return Shard{}, nil
	}
	is, ns, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return Shard{}, fmt.Errorf("%w: --shard %q: want i/n with 1 ≤ i ≤ n, e.g. 2/3", ErrHarness, s)
	}
	return Shard{Index: i, Count: n}, nil
}

// Sharded reports whether s splits the run.
func (s Shard) Sharded() bool { return s.Count > 1 }

// String is "i/n".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Takes reports whether the k-th item (0-based) of a dealt list is s's.
func (s Shard) Takes(k int) bool { return !s.Sharded() || k%s.Count == s.Index-1 }

// shardPaths are the feature:line paths of the scenarios shard s runs out
// of pickles, after the tag expression tags.
func shardPaths(pickles []Pickle, tags string, s Shard) []string {
	var all []string
	for _, p := range pickles {
		if !MatchTags(tags, p.Tags) {
			continue
		}
		path := fmt.Sprintf("%s:%d", p.Feature, p.Line)
		if !slices.Contains(all, path) {
			all = append(all, path)
		}
	}
	slices.SortFunc(all, comparePaths)
	var mine []string
	for k, path := range all {
		if s.Takes(k) {
			mine = append(mine, path)
		}
	}
	return mine
}

// comparePaths orders feature:line paths by feature, then line.
func comparePaths(a, b string) int {
	fa, la, _ := strings.Cut(a, ":")
	fb, lb, _ := strings.Cut(b, ":")
	if c := strings.Compare(fa, fb); c != 0 {
		return c
	}
	na, _ := strconv.Atoi(la)
	nb, _ := strconv.Atoi(lb)
	return na - nb
}

// MatchTags evaluates a godog tag expression against a scenario's tags:
// "&&" joins terms that must all hold, "," separates alternatives within a
// term, "~" negates a tag ("@flow-delivery,@flow-virus && ~@exclusive").
// The empty expression matches everything.
func MatchTags(expr string, tags []string) bool {
	if strings.TrimSpace(expr) == "" {
		return true
	}
	has := func(tag string) bool {
		return slices.ContainsFunc(tags, func(t string) bool { return strings.TrimPrefix(t, "@") == tag })
	}
	for _, term := range strings.Split(expr, "&&") {
		ok := false
		for _, alt := range strings.Split(term, ",") {
			alt = strings.ReplaceAll(strings.TrimSpace(alt), "@", "")
			if neg, isNeg := strings.CutPrefix(alt, "~"); isNeg {
				ok = ok || !has(neg)
			} else {
				ok = ok || has(alt)
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
