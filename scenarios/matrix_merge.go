package scenarios

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// IsMatrix reports whether dir holds a matrix's output (matrix.json).
func IsMatrix(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "matrix.json"))
	return err == nil
}

// ReadMatrix reads dir/matrix.json.
func ReadMatrix(dir string) (*Matrix, error) {
	data, err := os.ReadFile(filepath.Join(dir, "matrix.json"))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMerge, err)
	}
	var m Matrix
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: %s/matrix.json: %v", ErrMerge, dir, err)
	}
	return &m, nil
}

// MergeMatrix joins the outputs of a matrix's shards (pecspec matrix
// --shard i/n): every unit's directory as it is (each ran in one shard),
// gamma's inbox numbered on, and the matrix judged again over all units —
// matrix.json, matrix.html, junit.xml, and each unit's summary and report.
func MergeMatrix(out string, dirs []string) (*Matrix, error) {
	parts, err := readInputs(out, dirs, ReadMatrix)
	if err != nil {
		return nil, err
	}
	if err := checkMatrixShards(dirs, parts); err != nil {
		return nil, err
	}
	j := joinMatrices(parts)
	units, err := copyUnits(out, dirs, parts)
	if err != nil {
		return nil, err
	}
	if err := renumberPeer(out, dirs); err != nil {
		return nil, err
	}
	for u, o := range j.judge(units) {
		u.summary.Outcome = o
		if err := WriteSummary(filepath.Join(out, u.unitDir()), u.summary); err != nil {
			return nil, err
		}
	}
	return j, WriteMatrix(out, j)
}

// checkMatrixShards: the same providers, one shard count, every index once.
func checkMatrixShards(dirs []string, parts []*Matrix) error {
	if len(parts) == 0 {
		return fmt.Errorf("%w: no directory to merge", ErrMerge)
	}
	var errs []error
	names := providerNamesOf(parts[0])
	seen := map[int]bool{}
	count := 0
	for i, m := range parts {
		if !slices.Equal(providerNamesOf(m), names) {
			errs = append(errs, fmt.Errorf("%w: %s has providers %v, %s has %v", ErrMerge, dirs[0], names, dirs[i], providerNamesOf(m)))
		}
		if m.Shard == nil {
			errs = append(errs, fmt.Errorf("%w: %s is a whole matrix, not a shard", ErrMerge, dirs[i]))
			continue
		}
		if count != 0 && m.Shard.Count != count {
			errs = append(errs, fmt.Errorf("%w: %s is shard %s of another split", ErrMerge, dirs[i], m.Shard))
		}
		count = m.Shard.Count
		if seen[m.Shard.Index] {
			errs = append(errs, fmt.Errorf("%w: shard %s comes twice", ErrMerge, m.Shard))
		}
		seen[m.Shard.Index] = true
	}
	for i := 1; i <= count; i++ {
		if !seen[i] {
			errs = append(errs, fmt.Errorf("%w: shard %d/%d is missing", ErrMerge, i, count))
		}
	}
	return errors.Join(errs...)
}

func providerNamesOf(m *Matrix) []string {
	var out []string
	for _, p := range m.Providers {
		out = append(out, p.Name)
	}
	return out
}

// joinMatrices makes the merged matrix's frame: providers (unreachable in
// any shard is unreachable), expectations, times.
func joinMatrices(parts []*Matrix) *Matrix {
	first := parts[0]
	j := &Matrix{Tags: first.Tags, Seed: first.Seed, Expect: map[string][]Expectation{}, LabUnreachable: map[string]string{}}
	for _, p := range first.Providers {
		j.Providers = append(j.Providers, &MatrixProvider{Name: p.Name, ProviderName: p.ProviderName, Domains: p.Domains})
	}
	for _, m := range parts {
		if j.Started.IsZero() || m.Started.Before(j.Started) {
			j.Started = m.Started
		}
		j.Finished = maxTime(j.Finished, m.Finished)
		if m.LabError != "" {
			j.LabError = m.LabError
		}
		for _, p := range m.Providers {
			if p.Unreachable != "" {
				j.providerNamed(p.Name).Unreachable = p.Unreachable
			}
		}
		for name, why := range m.LabUnreachable {
			j.LabUnreachable[name] = why
		}
		for name, exps := range m.Expect {
			for _, e := range exps {
				if !slices.Contains(j.Expect[name], e) {
					j.Expect[name] = append(j.Expect[name], e)
				}
			}
		}
	}
	return j
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// copyUnits copies every unit a shard ran into out and returns the units of
// the whole matrix, in the order of the first shard's cells.
func copyUnits(out string, dirs []string, parts []*Matrix) ([]*unit, error) {
	kinds := map[string]unitKind{"pair": unitPair, "single": unitSingle, "clock": unitClock}
	ran := map[string]*unit{}
	for i, m := range parts {
		for _, c := range m.Cells {
			if c.Status == unitElsewhere {
				continue
			}
			u := &unit{kind: kinds[c.Kind], sender: c.Sender, receiver: c.Receiver, mine: true, status: c.Status,
				reason: c.Reason, took: time.Duration(c.Seconds * float64(time.Second))}
			if c.Status == unitRan {
				dst := filepath.Join(out, c.Dir)
				_ = os.RemoveAll(dst)
				if err := copyTree(filepath.Join(dirs[i], c.Dir), dst); err != nil {
					return nil, fmt.Errorf("%w: %v", ErrMerge, err)
				}
				s, err := ReadSummary(dst)
				if err != nil {
					return nil, err
				}
				u.summary = s
			}
			ran[c.Dir] = u
		}
	}
	var units []*unit
	for _, c := range parts[0].Cells {
		u := ran[c.Dir]
		if u == nil {
			u = &unit{kind: kinds[c.Kind], sender: c.Sender, receiver: c.Receiver, status: unitElsewhere}
		}
		units = append(units, u)
	}
	return units, nil
}
