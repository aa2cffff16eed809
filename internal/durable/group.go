package durable

import (
	"os"
	"sync"
)

// Group coalesces the fsyncs of one file or directory among concurrent
// callers (group commit): Sync returns once an fsync that began after the
// call has succeeded, so one fsync covers every caller that arrived while
// the previous one ran. After a failed fsync every call fails.
type Group struct {
	sync    func() error
	mu      sync.Mutex // guards asked
	asked   uint64
	smu     sync.Mutex // serialises the fsyncs; guards covered and ferr
	covered uint64
	// ferr is the first failed fsync's error, returned to every caller from
	// then on: on Linux a write-back error is reported once, and a later
	// fsync that succeeds does not bring back the pages it lost, so nothing
	// written before can be called durable again (as PostgreSQL concluded
	// in 2018). Until a restart, callers fail instead of acknowledging.
	ferr error
}

// NewGroup returns the group of fsync.
func NewGroup(fsync func() error) *Group { return &Group{sync: fsync} }

// Sync makes durable everything written before the call.
func (g *Group) Sync() error {
	g.mu.Lock()
	g.asked++
	me := g.asked
	g.mu.Unlock()
	g.smu.Lock()
	defer g.smu.Unlock()
	if g.ferr != nil {
		return g.ferr
	}
	if g.covered >= me {
		return nil
	}
	g.mu.Lock()
	upto := g.asked
	g.mu.Unlock()
	if err := g.sync(); err != nil {
		if _, ok := err.(notRun); !ok {
			g.ferr = err
		}
		return err
	}
	g.covered = upto
	return nil
}

// dirGroups holds one Group per directory SyncDir was asked to sync.
var dirGroups sync.Map

// SyncDir fsyncs a directory, making renames and removals in it durable.
// Concurrent calls for the same directory share fsyncs (Group): a Maildir or
// the queue receiving many messages at once syncs its directory once per
// batch, not once per file.
func SyncDir(dir string) error {
	g, ok := dirGroups.Load(dir)
	if !ok {
		g, _ = dirGroups.LoadOrStore(dir, NewGroup(func() error { return syncDir(dir) }))
	}
	return g.(*Group).Sync()
}

// notRun is the error of an fsync that never ran (the directory could not
// be opened): nothing was lost, so it does not fail the group for good.
type notRun struct{ error }

func (n notRun) Unwrap() error { return n.error }

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return notRun{err}
	}
	defer d.Close()
	return d.Sync()
}
