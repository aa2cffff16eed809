package queue

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pecspec/pecspec/internal/durable"
)

// bodySuffix names the message file of an item queued by reference.
const bodySuffix = ".body"

func (q *Queue) bodyPath(id string) string { return filepath.Join(q.o.Dir, id+bodySuffix) }

// EnqueueFile is Enqueue for a message already in a file on the queue's file
// system and fsynced (a large message composed in the spool): the file is
// renamed into the queue — queued by reference, never read into memory nor
// copied — and the item refers to it. The caller no longer owns path
// afterwards, unless an error is returned; an item the queue already holds
// or has finished with (package once) leaves path to the caller.
func (q *Queue) EnqueueFile(it Item, path string) (id string, taken bool, err error) {
	if it.ID == "" {
		it.ID = newID()
	}
	if q.known(it.ID) {
		return it.ID, false, nil
	}
	if len(it.To) == 0 {
		return "", false, fmt.Errorf("queue: item without recipients")
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", false, fmt.Errorf("queue: %w", err)
	}
	if it.Created.IsZero() {
		it.Created = q.o.Clock()
	}
	it.Data, it.Body = nil, it.ID+bodySuffix
	if err := os.Rename(path, q.bodyPath(it.ID)); err != nil {
		return "", false, fmt.Errorf("queue: %w", err)
	}
	// The item's metadata is written (and its directory fsynced) after the
	// rename: a crash before leaves an orphan body, which load removes.
	if err := q.persist(&it, nil, int(st.Size())); err != nil {
		_ = os.Rename(q.bodyPath(it.ID), path)
		return "", false, err
	}
	q.mu.Lock()
	q.items[it.ID] = &it
	q.mu.Unlock()
	q.Kick()
	return it.ID, true, nil
}

// Known reports whether the queue holds the item id or has finished with
// it (sent or given up, within the ledger's memory).
func (q *Queue) Known(id string) bool { return q.known(id) }

// known reports whether the queue holds id or has finished with it.
func (q *Queue) known(id string) bool {
	q.mu.Lock()
	_, pending := q.items[id]
	q.mu.Unlock()
	return pending || q.done.has(id)
}

// body opens the message file of an item queued by reference.
func (q *Queue) body(it *Item) (*io.SectionReader, func(), error) {
	f, err := os.Open(filepath.Join(q.o.Dir, it.Body))
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err == nil && st.Size() != int64(it.Size) {
		err = fmt.Errorf("queue: %s: message of %d bytes, the item says %d", it.ID, st.Size(), it.Size)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return io.NewSectionReader(f, 0, st.Size()), func() { f.Close() }, nil
}

// dropOrphan removes a message file whose item was never written (a crash
// between EnqueueFile's rename and its metadata): nothing acknowledged it.
func (q *Queue) dropOrphan(name string) {
	id, ok := strings.CutSuffix(name, bodySuffix)
	if !ok {
		return
	}
	if _, err := os.Stat(filepath.Join(q.o.Dir, id+".msg")); os.IsNotExist(err) {
		_ = os.Remove(filepath.Join(q.o.Dir, name))
		_ = durable.SyncDir(q.o.Dir)
	}
}
