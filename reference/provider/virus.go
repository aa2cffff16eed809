package provider

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pecspec/pecspec/internal/durable"
	"github.com/pecspec/pecspec/reference/clock"
)

// virusStore keeps infected messages exactly as they arrived, one file each,
// durably (RFC 6109 §2.2.4, DPR 68/2005 art.12: 30 months; OPS-01). Removal
// after 30 months is left to the operator's retention job.
type virusStore struct {
	dir   string
	clock clock.Clock
}

func openVirusStore(dir string, c clock.Clock) (*virusStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("provider: virus store: %w", err)
	}
	return &virusStore{dir: dir, clock: c}, nil
}

// Keep stores msg, streamed, under a name that sorts by arrival.
func (v *virusStore) Keep(msg io.Reader) error {
	var r [6]byte
	_, _ = rand.Read(r[:])
	name := v.clock.Now().UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(r[:]) + ".eml"
	final := filepath.Join(v.dir, name)
	f, err := os.OpenFile(final+".tmp", os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, msg)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(final+".tmp", final)
	}
	if err == nil {
		err = durable.SyncDir(v.dir)
	}
	if err != nil {
		os.Remove(final + ".tmp")
	}
	return err
}
