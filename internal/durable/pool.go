package durable

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// FreeDir is the subdirectory of a pooled directory that holds emptied files
// waiting to be reused.
const FreeDir = ".free"

// Pool writes and removes the short-lived files of one directory (queue
// items, tracker records) without freeing their inodes: a removed file is
// emptied and parked in dir/.free, and the next write reuses it instead of
// creating a file.
//
// Why: on ext4 without a journal (the project machine's root file system) a
// new inode skips every inode freed in the last minute (the kernel's
// recently_deleted check), reading each one's inode table entry; at a few
// hundred created-then-deleted files a second that scan was the largest
// single cost of the reference provider (perf: find_inode_bit,
// recently_deleted, about a quarter of its CPU). Recycling keeps the inode
// count steady, so new Maildir files find a free inode at once.
//
// A Pool keeps durable.Write's guarantees: the new content is on disk (file
// and directory fsync) before Write returns, and a reader sees the old or
// the new file, never a mixture.
type Pool struct {
	free string
	max  int
	mu   sync.Mutex
	idle []string // names in free
	seq  uint64
}

// OpenPool opens the pool of dir, keeping at most keep emptied files (more
// are deleted). Files a previous run parked in dir/.free are reused.
func OpenPool(dir string, keep int) (*Pool, error) {
	p := &Pool{free: filepath.Join(dir, FreeDir), max: keep}
	if err := os.MkdirAll(p.free, 0o700); err != nil {
		return nil, fmt.Errorf("durable: %w", err)
	}
	entries, err := os.ReadDir(p.free)
	if err != nil {
		return nil, fmt.Errorf("durable: %w", err)
	}
	for _, e := range entries {
		n, err := strconv.ParseUint(e.Name(), 10, 64)
		if err != nil || !e.Type().IsRegular() {
			continue
		}
		p.idle = append(p.idle, e.Name())
		p.seq = max(p.seq, n)
	}
	return p, nil
}

// Write stores parts at final (a path in the pool's directory), through
// final+".tmp", in a recycled file when one is idle. An existing final is
// swapped out atomically (renameat2 RENAME_EXCHANGE) and its file parked.
func (p *Pool) Write(final string, parts ...[]byte) error {
	return p.write(final, writeParts(parts))
}

// WriteFrom is Write with the content read from r: a large file is
// rewritten without being held in memory.
func (p *Pool) WriteFrom(final string, r io.Reader) error {
	return p.write(final, func(f *os.File) error {
		_, err := io.Copy(f, r)
		return err
	})
}

func (p *Pool) write(final string, fill func(*os.File) error) error {
	tmp := final + ".tmp"
	if name := p.take(); name != "" {
		err := os.Rename(filepath.Join(p.free, name), tmp)
		switch {
		case err == nil:
		case errors.Is(err, os.ErrNotExist) && dirExists(filepath.Dir(final)):
			// The parked file is gone (someone emptied .free): a new file.
		default:
			p.list(name) // still parked
			return fmt.Errorf("durable: write %s: %w", final, err)
		}
	}
	err := create(tmp, fill)
	swapped := false
	if err == nil {
		err = unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, final, unix.RENAME_EXCHANGE)
		swapped = err == nil
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSYS) {
			// No final yet, or a file system without exchange: a plain rename.
			err = os.Rename(tmp, final)
		}
	}
	if err == nil {
		err = SyncDir(filepath.Dir(final))
	}
	if err != nil {
		if !swapped {
			p.park(tmp)
		}
		return fmt.Errorf("durable: write %s: %w", final, err)
	}
	if swapped {
		p.park(tmp) // the previous content of final
	}
	return nil
}

// Remove takes path out of its directory and parks its file for reuse. It
// does not fsync the directory: callers that need the removal durable call
// SyncDir. A missing path is not an error.
func (p *Pool) Remove(path string) error {
	name := p.name()
	err := os.Rename(path, filepath.Join(p.free, name))
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Lstat(path); serr != nil {
			return nil // nothing to remove
		}
		// The free directory is gone: make it again.
		if err = os.MkdirAll(p.free, 0o700); err == nil {
			err = os.Rename(path, filepath.Join(p.free, name))
		}
	}
	if err != nil {
		return fmt.Errorf("durable: %w", err)
	}
	p.keep(name)
	return nil
}

func dirExists(dir string) bool {
	st, err := os.Stat(dir)
	return err == nil && st.IsDir()
}

// Idle is the number of parked files.
func (p *Pool) Idle() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}

// park empties path and moves it to the free directory; when the pool is
// full, or the move fails, the file is deleted instead.
func (p *Pool) park(path string) {
	if _, err := os.Lstat(path); err != nil {
		return // nothing there (a create that failed)
	}
	name := p.name()
	if err := os.Rename(path, filepath.Join(p.free, name)); err != nil {
		os.Remove(path)
		return
	}
	p.keep(name)
}

// keep empties a file just moved into the free directory and lists it, or
// deletes it when max files are already idle.
func (p *Pool) keep(name string) {
	path := filepath.Join(p.free, name)
	p.mu.Lock()
	full := len(p.idle) >= p.max
	p.mu.Unlock()
	if full || os.Truncate(path, 0) != nil {
		os.Remove(path)
		return
	}
	p.list(name)
}

// list makes a parked file available again.
func (p *Pool) list(name string) {
	p.mu.Lock()
	p.idle = append(p.idle, name)
	p.mu.Unlock()
}

func (p *Pool) take() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) == 0 {
		return ""
	}
	name := p.idle[len(p.idle)-1]
	p.idle = p.idle[:len(p.idle)-1]
	return name
}

func (p *Pool) name() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	return strconv.FormatUint(p.seq, 10)
}
