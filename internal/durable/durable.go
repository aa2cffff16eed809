// Package durable writes files so that they survive a crash once the call
// returns (DESIGN.md rule 5: SMTP is acknowledged only after the message and
// its state are on disk): write a temporary file, fsync it, rename it into
// place, fsync the directory.
package durable

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write stores the parts, one after the other, at final through tmp (which
// must be on the same file system): a large part is written from where it
// is, never joined into a copy. On error nothing is left at tmp.
func Write(tmp, final string, parts ...[]byte) error {
	err := create(tmp, writeParts(parts))
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err == nil {
		err = SyncDir(filepath.Dir(final))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("durable: write %s: %w", final, err)
	}
	return nil
}

// create writes path (made or truncated) with fill and fsyncs it.
func create(path string, fill func(*os.File) error) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	err = fill(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeParts writes the parts one after the other, each from where it is.
func writeParts(parts [][]byte) func(*os.File) error {
	return func(f *os.File) error {
		for _, p := range parts {
			if _, err := f.Write(p); err != nil {
				return err
			}
		}
		return nil
	}
}
