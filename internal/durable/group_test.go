package durable

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestGroupCoalesces: callers that arrive while an fsync runs share the next
// one, and none returns before an fsync that began after its call.
func TestGroupCoalesces(t *testing.T) {
	var calls atomic.Int64
	var g *Group
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	g = NewGroup(func() error {
		if calls.Add(1) == 1 {
			entered <- struct{}{}
			<-release // the first fsync is slow; the others queue behind it
		}
		return nil
	})
	first := make(chan error)
	go func() { first <- g.Sync() }()
	<-entered
	const n = 8
	var wg sync.WaitGroup
	var returned atomic.Int64
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := g.Sync(); err != nil {
				t.Error(err)
			}
			returned.Add(1)
		}()
	}
	// None of the later callers is covered by the fsync already running.
	for g.waiting() < n {
		runtime.Gosched()
	}
	if returned.Load() != 0 {
		t.Fatal("a caller returned before an fsync that began after it")
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if got := calls.Load(); got != 2 {
		t.Errorf("%d fsyncs for 1 + %d callers arriving during the first, want 2", got, n)
	}
}

// TestGroupFailure: after a failed fsync no caller is told its data is
// durable, even when the next fsync would succeed (Linux reports a write-back
// error once).
func TestGroupFailure(t *testing.T) {
	fail := errors.New("disk gone")
	var calls int
	g := NewGroup(func() error {
		calls++
		if calls == 1 {
			return fail
		}
		return nil
	})
	if err := g.Sync(); !errors.Is(err, fail) {
		t.Fatalf("first Sync: %v, want %v", err, fail)
	}
	if err := g.Sync(); !errors.Is(err, fail) {
		t.Fatalf("Sync after a failure: %v, want %v", err, fail)
	}
}

// TestSyncDirMissing: a directory that cannot be opened fails the call but
// not the group: once it exists, SyncDir works.
func TestSyncDirMissing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "later")
	if err := SyncDir(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("SyncDir of a missing directory: %v", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := SyncDir(dir); err != nil {
		t.Fatalf("SyncDir once the directory exists: %v", err)
	}
}

// waiting is how many callers asked after the first.
func (g *Group) waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return int(g.asked) - 1
}
