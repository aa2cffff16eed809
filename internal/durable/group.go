package durable

import (
	"os"
	"sync"
)

// Group coalesces the fsyncs of one file or directory among concurrent
// callers (group commit): Sync returns once an fsync that began after the
// call has succeeded, so one fsync covers every caller that arrived while
// the previous one ran. A failed fsync covers nobody: the next caller tries
// again.
type Group struct {
	sync    func() error
	mu      sync.Mutex // guards asked
	asked   uint64
	smu     sync.Mutex // serialises the fsyncs; guards covered
	covered uint64
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
	if g.covered >= me {
		return nil
	}
	g.mu.Lock()
	upto := g.asked
	g.mu.Unlock()
	if err := g.sync(); err != nil {
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

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
