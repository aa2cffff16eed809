package txlog

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// ErrTampered is wrapped by every finding of Verify.
var ErrTampered = errors.New("txlog: registro altered")

// Verify reads the registro in dir from the start and checks every record's
// hash, the chain and the sequence, then the head file: it returns the head
// reached, or an error wrapping ErrTampered that names the first bad record.
// A torn last frame is reported too: Verify never repairs.
func Verify(dir string) (Head, error) {
	var head Head
	err := Scan(dir, func(rec *Record) error {
		if err := check(rec, head.Seq, head.Hash); err != nil {
			return fmt.Errorf("%w: %v", ErrTampered, err)
		}
		head = Head{Seq: rec.Seq, Hash: rec.Hash}
		return nil
	})
	if err != nil {
		return head, err
	}
	data, err := os.ReadFile(filepath.Join(dir, HeadFile))
	switch {
	case errors.Is(err, os.ErrNotExist) && head.Seq == 0:
		return head, nil
	case err == nil && len(data) == 0:
		// Created, not yet written: it lags the log, as a head may after a
		// crash (it is written after each fsync, never before).
		return head, nil
	case err != nil:
		return head, fmt.Errorf("%w: head file: %v", ErrTampered, err)
	}
	var want Head
	if err := decode(data, &want); err != nil {
		return head, fmt.Errorf("%w: head file: %v", ErrTampered, err)
	}
	switch {
	case want.Seq > head.Seq:
		return head, fmt.Errorf("%w: the head names record %d but the log ends at record %d: records removed",
			ErrTampered, want.Seq, head.Seq)
	case want.Seq == head.Seq && want.Hash != head.Hash:
		return head, fmt.Errorf("%w: last record %d does not match the head hash", ErrTampered, head.Seq)
	}
	return head, nil
}

// Scan calls fn for every record of the registro in dir, in order, without
// checking the chain (Verify does). A torn last frame is an error.
func Scan(dir string, fn func(*Record) error) error {
	f, err := os.Open(filepath.Join(dir, LogFile))
	if err != nil {
		return fmt.Errorf("txlog: %w", err)
	}
	defer f.Close()
	r := NewReader(f)
	for {
		rec, err := r.Next()
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case errors.Is(err, errTorn):
			return fmt.Errorf("%w: incomplete record at offset %d", ErrTampered, r.off)
		case err != nil:
			return fmt.Errorf("%w: %v", ErrTampered, err)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
}

// Filter selects records for an export: [From, To) on the record time, and
// the records concerning User when it is set.
type Filter struct {
	From, To time.Time // zero = unbounded
	User     string
}

// Match reports whether rec passes f.
func (f Filter) Match(rec *Record) bool {
	if !f.From.IsZero() && rec.Time.Before(f.From) {
		return false
	}
	if !f.To.IsZero() && !rec.Time.Before(f.To) {
		return false
	}
	return f.User == "" || rec.Concerns(f.User)
}
