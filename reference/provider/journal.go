package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/pecspec/pecspec/internal/durable"
	"github.com/pecspec/pecspec/reference/accesspoint"
	"github.com/pecspec/pecspec/reference/spool"
)

// journal keeps the access point's commits (accesspoint.Commit) in
// data/journal/ from before a submission's first output until its last:
// <key>.commit, msgpack, written through a file pool and fsynced with its
// directory; for a large envelope also <key>.env, a second link to its
// spool file (no copy), made durable by the same directory fsync. What a
// crash left there is completed at the next start (replayJournal). End does
// not fsync the removal: a commit that comes back is complete, and its
// replay makes nothing again (package once).
type journal struct {
	dir   string
	files *durable.Pool
	spool *spool.Dir
}

const (
	commitExt = ".commit"
	envExt    = ".env"
)

func openJournal(dir string, sp *spool.Dir) (*journal, error) {
	files, err := durable.OpenPool(dir, 64)
	if err != nil {
		return nil, fmt.Errorf("provider: journal: %w", err)
	}
	tmps, _ := filepath.Glob(filepath.Join(dir, "*.tmp"))
	for _, f := range tmps {
		os.Remove(f) // a write a crash cut short: its commit never began
	}
	return &journal{dir: dir, files: files, spool: sp}, nil
}

func (j *journal) path(key, ext string) string { return filepath.Join(j.dir, key+ext) }

// Begin implements accesspoint.Journal.
func (j *journal) Begin(c *accesspoint.Commit) error {
	k := c.Key()
	if e := c.Envelope; e != nil && e.File != nil {
		if err := os.Link(e.File.Path(), j.path(k, envExt)); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	data, err := msgpack.Marshal(c)
	if err == nil {
		err = j.files.Write(j.path(k, commitExt), data)
	}
	if err != nil {
		j.drop(k)
	}
	return err
}

// End implements accesspoint.Journal.
func (j *journal) End(c *accesspoint.Commit) { j.drop(c.Key()) }

func (j *journal) drop(key string) {
	_ = j.files.Remove(j.path(key, commitExt))
	_ = os.Remove(j.path(key, envExt))
}

// pending reads the commits begun and not ended, in no particular order.
func (j *journal) pending() ([]*accesspoint.Commit, error) {
	files, err := filepath.Glob(filepath.Join(j.dir, "*"+commitExt))
	if err != nil {
		return nil, err
	}
	var out []*accesspoint.Commit
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("provider: journal: %w", err)
		}
		c := &accesspoint.Commit{}
		if err := msgpack.Unmarshal(data, c); err != nil || c.Record == nil ||
			c.Key() != strings.TrimSuffix(filepath.Base(f), commitExt) {
			return nil, fmt.Errorf("provider: journal: %s is not a commit (%v): move it aside to start", f, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// replayJournal completes the commits a crash interrupted, before the
// instance serves anything. A commit whose envelope — its last output — the
// queue already holds or sent was complete: it is only forgotten. A large
// envelope is queued from the journal's link to its file.
func (p *Provider) replayJournal() error {
	cs, err := p.journal.pending()
	if err != nil {
		return err
	}
	var todo []*accesspoint.Commit
	for _, c := range cs {
		e := c.Envelope
		if e != nil {
			if name, ok := sendName(c.Scope(context.Background()), e.From, e.To); ok && p.queue.Known(name) {
				p.journal.End(c)
				continue
			}
		}
		if e != nil && e.Data == nil {
			if e.File, err = p.spool.Adopt(p.journal.path(c.Key(), envExt)); err != nil {
				// Never so (Begin links it before the commit is written):
				// without it the tracker's notices tell the sender (RFC 6109 §3.1.6).
				p.log.Error("journal: the envelope's file is gone; replaying without it", "pec_id", c.ID, "err", err)
				c.Envelope = nil
			}
		}
		todo = append(todo, c)
	}
	return p.ap.Replay(context.Background(), todo)
}
