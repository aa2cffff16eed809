package durable

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Sys().(*syscall.Stat_t).Ino
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPoolRecycles: a removed file's inode carries the next write, a
// replaced file's inode is parked, contents are always the latest, and no
// temporary file is left.
func TestPoolRecycles(t *testing.T) {
	dir := t.TempDir()
	p, err := OpenPool(dir, 8)
	if err != nil {
		t.Fatal(err)
	}
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := p.Write(a, []byte("one "), []byte("two")); err != nil {
		t.Fatal(err)
	}
	if got := read(t, a); got != "one two" {
		t.Fatalf("a = %q", got)
	}
	first := inode(t, a)
	if err := p.Write(a, []byte("three")); err != nil { // replaces: the old file is parked
		t.Fatal(err)
	}
	if got := read(t, a); got != "three" {
		t.Fatalf("a after a rewrite = %q", got)
	}
	if p.Idle() != 1 {
		t.Fatalf("idle after a rewrite = %d, want 1", p.Idle())
	}
	if err := p.Write(b, []byte("bee")); err != nil { // reuses the parked file
		t.Fatal(err)
	}
	if inode(t, b) != first || p.Idle() != 0 || read(t, b) != "bee" {
		t.Fatalf("b: inode %d (parked %d), idle %d, %q", inode(t, b), first, p.Idle(), read(t, b))
	}
	if err := p.Remove(b); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(b); !os.IsNotExist(err) {
		t.Fatal("removed file still there")
	}
	if err := p.Remove(b); err != nil {
		t.Fatalf("removing a missing file: %v", err)
	}
	parked, _ := os.ReadDir(filepath.Join(dir, FreeDir))
	if len(parked) != 1 {
		t.Fatalf("%d parked files, want 1", len(parked))
	}
	if info, _ := parked[0].Info(); info.Size() != 0 {
		t.Errorf("parked file keeps %d bytes", info.Size())
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".tmp" {
			t.Errorf("left behind: %s", e.Name())
		}
	}

	// A new run reuses what the previous one parked.
	q, err := OpenPool(dir, 8)
	if err != nil {
		t.Fatal(err)
	}
	if q.Idle() != 1 {
		t.Fatalf("reopened pool has %d idle files, want 1", q.Idle())
	}
	if err := q.Write(b, []byte("again")); err != nil || read(t, b) != "again" || q.Idle() != 0 {
		t.Fatalf("write after reopening: %v, %q, idle %d", err, read(t, b), q.Idle())
	}
}

// TestPoolBounded: beyond keep idle files, removed files are deleted.
func TestPoolBounded(t *testing.T) {
	dir := t.TempDir()
	p, err := OpenPool(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"1", "2", "3", "4"} {
		if err := p.Write(filepath.Join(dir, n), []byte(n)); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"1", "2", "3", "4"} {
		if err := p.Remove(filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	parked, _ := os.ReadDir(filepath.Join(dir, FreeDir))
	if p.Idle() != 2 || len(parked) != 2 {
		t.Errorf("idle %d, %d files parked; want 2", p.Idle(), len(parked))
	}
}

// TestPoolWriteFailure: a write that cannot land leaves the old file and no
// temporary one, and reports the error.
func TestPoolWriteFailure(t *testing.T) {
	dir := t.TempDir()
	p, err := OpenPool(dir, 4)
	if err != nil {
		t.Fatal(err)
	}
	final := filepath.Join(dir, "missing", "f")
	if err := p.Write(final, []byte("x")); err == nil {
		t.Fatal("a write into a missing directory succeeded")
	}
	if _, err := os.Stat(final + ".tmp"); !os.IsNotExist(err) {
		t.Error("temporary file left behind after a failure")
	}
}

// TestPoolReuseFailure: a parked file that cannot be moved to a missing
// directory stays parked and usable.
func TestPoolReuseFailure(t *testing.T) {
	dir, p, a := onceParked(t)
	if err := p.Write(filepath.Join(dir, "missing", "f"), []byte("x")); err == nil {
		t.Fatal("a write into a missing directory succeeded")
	}
	if p.Idle() != 1 {
		t.Fatalf("idle after a failed reuse = %d, want 1", p.Idle())
	}
	if err := p.Write(a, []byte("y")); err != nil || read(t, a) != "y" || p.Idle() != 0 {
		t.Fatalf("write after a failed reuse: %v, idle %d", err, p.Idle())
	}
}

// TestPoolFreeDirRemoved: with .free emptied or removed underneath, writes
// make new files and removals still take the file out.
func TestPoolFreeDirRemoved(t *testing.T) {
	dir, p, a := onceParked(t)
	if err := os.RemoveAll(filepath.Join(dir, FreeDir)); err != nil {
		t.Fatal(err)
	}
	if err := p.Write(a, []byte("y")); err != nil || read(t, a) != "y" {
		t.Fatalf("write with the parked file gone: %v", err)
	}
	if err := p.Remove(a); err != nil {
		t.Fatalf("remove with .free gone: %v", err)
	}
	if _, err := os.Stat(a); !os.IsNotExist(err) {
		t.Errorf("file still there after Remove: %v", err)
	}
}

// onceParked is a pool in a new directory whose one file, written at a and
// removed, is parked.
func onceParked(t *testing.T) (dir string, p *Pool, a string) {
	t.Helper()
	dir = t.TempDir()
	p, err := OpenPool(dir, 4)
	if err != nil {
		t.Fatal(err)
	}
	a = filepath.Join(dir, "a")
	if err := p.Write(a, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := p.Remove(a); err != nil || p.Idle() != 1 {
		t.Fatalf("remove: %v, idle %d", err, p.Idle())
	}
	return dir, p, a
}
