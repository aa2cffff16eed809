// Package queue is the reference provider's durable outbound SMTP queue (RFC
// 6109 §2.2.2: PEC systems keep a 24 h message-idleness limit, TIM-08; §5.3:
// provider-to-provider SMTP runs over TLS, RFC 3207). An item is on disk
// (fsync of file and directory) before Enqueue returns and is removed only
// after every recipient was accepted or given up; a restart resumes what is
// left.
package queue

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/pecspec/pecspec/internal/durable"
)

// Item is one message to send. Once enqueued its Data lives in the item's
// file only: the queue reads it for each delivery attempt, so a large
// message is not held in memory while it waits.
type Item struct {
	ID   string
	From string
	To   []string // recipients still to deliver
	Data []byte   `msgpack:"Data,omitempty"` // the key the earlier format used
	// Size is the message's length in its file (PECQ2), checked on reading.
	Size int `msgpack:"size,omitempty"`
	// Body names the file in the queue's directory that holds the message
	// when it was queued by reference (EnqueueFile); then the item's own
	// file holds the metadata only.
	Body     string `msgpack:"body,omitempty"`
	Created  time.Time
	Attempts int
	NextTry  time.Time
	LastErr  string
}

// Router maps a domain to its MX host:port.
type Router interface {
	Route(domain string) (addr string, ok bool)
}

// StaticRoutes is a fixed domain → host:port map (a transport map).
type StaticRoutes map[string]string

// Route looks domain up case-insensitively.
func (r StaticRoutes) Route(domain string) (string, bool) {
	for d, a := range r {
		if strings.EqualFold(d, domain) {
			return a, true
		}
	}
	return "", false
}

// Options configures a Queue.
type Options struct {
	Dir    string
	Router Router
	// Resolver resolves the MX host names a DNS router returns (nil: the
	// system's resolver).
	Resolver     *net.Resolver
	TLS          *tls.Config // STARTTLS is required unless the domain is in PlainDomains
	PlainDomains []string
	HeloName     string
	Clock        func() time.Time
	Lifetime     time.Duration // default 24h (TIM-08)
	Workers      int           // default 4
	Backoff      func(attempt int) time.Duration
	// OnFailure hears of recipients given up for good (5xx, no route,
	// expired), with the message in the Item's Data; when it returns an
	// error they stay queued and it hears of them again at their next try.
	OnFailure   func(Item, error) error
	OnDelivered func(Item)
	Log         *slog.Logger
}

// Sentinel errors.
var (
	ErrExpired   = errors.New("queue: lifetime expired")
	ErrPermanent = errors.New("queue: permanent failure")
	ErrNoRoute   = errors.New("queue: no route")
)

// Queue is the durable outbound queue.
type Queue struct {
	o     Options
	mu    sync.Mutex
	items map[string]*Item
	busy  map[string]bool
	wake  chan struct{}
	done  *ledger
	conns sessions      // idle SMTP sessions to other providers (sessions.go)
	files *durable.Pool // item files are recycled, not deleted (durable.Pool)
}

// Open loads what a previous run left in Dir and returns the queue.
func Open(o Options) (*Queue, error) {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Lifetime == 0 {
		o.Lifetime = 24 * time.Hour
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Backoff == nil {
		o.Backoff = defaultBackoff
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	for _, d := range []string{o.Dir, filepath.Join(o.Dir, "bad")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("queue: %w", err)
		}
	}
	done, err := openLedger(o.Dir, o.Clock(), 2*o.Lifetime)
	if err != nil {
		return nil, err
	}
	files, err := durable.OpenPool(o.Dir, poolFiles)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	q := &Queue{o: o, items: map[string]*Item{}, busy: map[string]bool{}, wake: make(chan struct{}, 1), done: done,
		conns: sessions{max: o.Workers}, files: files}
	return q, q.load()
}

// poolFiles bounds the emptied item files kept for reuse.
const poolFiles = 1024

func defaultBackoff(attempt int) time.Duration {
	steps := []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, 2 * time.Minute, 5 * time.Minute}
	if attempt-1 < len(steps) {
		return steps[max(attempt-1, 0)]
	}
	return 15 * time.Minute
}

func (q *Queue) load() error {
	entries, err := os.ReadDir(q.o.Dir)
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".msg.tmp") {
			// An enqueue a crash interrupted: never acknowledged, so not ours.
			_ = os.Remove(filepath.Join(q.o.Dir, e.Name()))
			continue
		}
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".msg") {
			q.dropOrphan(e.Name())
			continue
		}
		it, err := readMeta(filepath.Join(q.o.Dir, e.Name()))
		if err == nil && q.done.has(it.ID) {
			// Finished before a crash undid the removal.
			_ = os.Remove(filepath.Join(q.o.Dir, e.Name()))
			continue
		}
		if err != nil || it.ID == "" {
			q.o.Log.Error("corrupt queue file moved aside", "role", "queue", "file", e.Name(), "err", err)
			_ = os.Rename(filepath.Join(q.o.Dir, e.Name()), filepath.Join(q.o.Dir, "bad", e.Name()))
			continue
		}
		q.items[it.ID] = it
	}
	return nil
}

// An item's file: fileMagic, the length of the metadata (4 bytes, big
// endian), the metadata (msgpack, without Data), then the message bytes.
// A file without the magic is the earlier format: the whole Item in msgpack.
const fileMagic = "PECQ2\n"

// headSize is the fixed start of a PECQ2 file: the magic and the metadata's length.
const headSize = len(fileMagic) + 4

// readHead reads the fixed start of an item's file: ok when it is PECQ2,
// with the length of the metadata that follows.
func readHead(f *os.File) (metaLen uint32, ok bool) {
	head := make([]byte, headSize)
	if _, err := io.ReadFull(f, head); err != nil || string(head[:len(fileMagic)]) != fileMagic {
		return 0, false
	}
	return binary.BigEndian.Uint32(head[len(fileMagic):]), true
}

// readMeta reads an item's metadata, not its message.
func readMeta(path string) (*Item, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	n, ok := readHead(f)
	if !ok {
		data, err := os.ReadFile(path) // the earlier format
		if err != nil {
			return nil, err
		}
		var it Item
		if err := msgpack.Unmarshal(data, &it); err != nil {
			return nil, err
		}
		if it.Data == nil {
			return nil, fmt.Errorf("queue: %s: no message in the file", filepath.Base(path))
		}
		return &it, nil
	}
	if n > 1<<20 {
		return nil, fmt.Errorf("queue: metadata of %d bytes", n)
	}
	meta := make([]byte, n)
	if _, err := io.ReadFull(f, meta); err != nil {
		return nil, err
	}
	var it Item
	return &it, msgpack.Unmarshal(meta, &it)
}

// message opens the message of it for reading: a section of its file,
// streamed to each MX rather than read into memory, or the bytes of an item
// of the earlier format. The caller calls done when finished.
func (q *Queue) message(it *Item) (msg *io.SectionReader, done func(), err error) {
	if it.Data != nil {
		return io.NewSectionReader(bytes.NewReader(it.Data), 0, int64(len(it.Data))), func() {}, nil
	}
	if it.Body != "" {
		return q.body(it)
	}
	f, err := os.Open(filepath.Join(q.o.Dir, it.ID+".msg"))
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	n, ok := readHead(f)
	if err == nil && !ok {
		err = fmt.Errorf("queue: %s: not a queue file", it.ID)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	off := int64(headSize) + int64(n)
	if size := st.Size() - off; size != int64(it.Size) {
		f.Close()
		return nil, nil, fmt.Errorf("queue: %s: message of %d bytes, the item says %d", it.ID, max(size, 0), it.Size)
	}
	return io.NewSectionReader(f, off, int64(it.Size)), func() { f.Close() }, nil
}

// newID is a random item ID.
func newID() string {
	var r [10]byte
	_, _ = rand.Read(r[:])
	return hex.EncodeToString(r[:])
}

// Enqueue stores it durably and wakes a worker. An item whose ID the queue
// already holds or has finished with is not stored again (package once).
func (q *Queue) Enqueue(it Item) (string, error) {
	if it.ID != "" && q.known(it.ID) {
		return it.ID, nil
	}
	if it.ID == "" {
		it.ID = newID()
	}
	if it.Created.IsZero() {
		it.Created = q.o.Clock()
	}
	if len(it.To) == 0 {
		return "", fmt.Errorf("queue: item without recipients")
	}
	data := it.Data
	it.Data = nil
	if err := q.persist(&it, data, len(data)); err != nil {
		return "", err
	}
	q.mu.Lock()
	q.items[it.ID] = &it
	q.mu.Unlock()
	q.Kick()
	return it.ID, nil
}

// persist writes it with its message atomically: tmp file, fsync, rename,
// fsync directory. The message is written from data, not copied (none for
// an item whose message is its Body file, of size bytes).
func (q *Queue) persist(it *Item, data []byte, size int) error {
	head, err := q.head(it, size)
	if err == nil {
		err = q.files.Write(q.file(it), head, data)
	}
	if err != nil {
		return fmt.Errorf("queue: persist %s: %w", it.ID, err)
	}
	return nil
}

// persistFrom is persist with the message read from msg (an item's own
// file, rewritten with new metadata after a deferred attempt).
func (q *Queue) persistFrom(it *Item, msg *io.SectionReader) error {
	if it.Body != "" {
		return q.persist(it, nil, int(msg.Size()))
	}
	head, err := q.head(it, int(msg.Size()))
	if err == nil {
		err = q.files.WriteFrom(q.file(it), io.MultiReader(bytes.NewReader(head), io.NewSectionReader(msg, 0, msg.Size())))
	}
	if err != nil {
		return fmt.Errorf("queue: persist %s: %w", it.ID, err)
	}
	return nil
}

func (q *Queue) file(it *Item) string { return filepath.Join(q.o.Dir, it.ID+".msg") }

// head is what precedes the message in an item's file: the magic, the
// metadata's length and the metadata (with the message's size, not its bytes).
func (q *Queue) head(it *Item, size int) ([]byte, error) {
	meta := *it
	meta.Data, meta.Size = nil, size
	it.Size = size
	m, err := msgpack.Marshal(&meta)
	if err != nil {
		return nil, err
	}
	head := make([]byte, 0, headSize+len(m))
	head = append(head, fileMagic...)
	head = binary.BigEndian.AppendUint32(head, uint32(len(m)))
	return append(head, m...), nil
}

// remove finishes with an item: the ledger records it (fsync), then its file
// goes (to the pool's free files); should a crash undo the removal, load
// drops the file.
func (q *Queue) remove(id string) {
	// The ledger first: an Enqueue of the same ID then finds it pending or
	// finished, never neither (which would write a file this removal parks).
	if err := q.done.add(id, q.o.Clock()); err != nil {
		q.o.Log.Error("queue ledger", "role", "queue", "id", id, "err", err)
		_ = durable.SyncDir(q.o.Dir)
	}
	if err := q.files.Remove(filepath.Join(q.o.Dir, id+".msg")); err != nil {
		q.o.Log.Error("remove queue file", "role", "queue", "id", id, "err", err)
	}
	_ = os.Remove(q.bodyPath(id)) // queued by reference
	// Last: once Len no longer counts the item, nothing of it is on disk.
	q.mu.Lock()
	delete(q.items, id)
	q.mu.Unlock()
}

// Len is the number of items waiting.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

// Kick makes the workers look at the queue now (after an enqueue, or after
// the clock was advanced).
func (q *Queue) Kick() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Close releases nothing held beyond Run; items stay on disk.
func (q *Queue) Close() error {
	q.conns.closeAll()
	return q.done.close()
}

// Run delivers due items until ctx is done.
func (q *Queue) Run(ctx context.Context) error {
	jobs := make(chan *Item)
	var wg sync.WaitGroup
	for i := 0; i < q.o.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range jobs {
				q.attempt(ctx, it)
				q.mu.Lock()
				delete(q.busy, it.ID)
				q.mu.Unlock()
				q.Kick()
			}
		}()
	}
	defer func() { close(jobs); wg.Wait() }()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		due, next := q.due()
		for _, it := range due {
			select {
			case jobs <- it:
			case <-ctx.Done():
				return nil
			}
		}
		timer.Reset(next)
		select {
		case <-ctx.Done():
			return nil
		case <-q.wake:
		case <-timer.C:
		}
	}
}

// due returns the items to try now (marked busy) and how long until the next.
func (q *Queue) due() ([]*Item, time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.o.Clock()
	next := time.Hour
	var out []*Item
	for id, it := range q.items {
		if q.busy[id] {
			continue
		}
		if !it.NextTry.After(now) {
			q.busy[id] = true
			cp := *it
			out = append(out, &cp)
		} else if d := it.NextTry.Sub(now); d < next {
			next = d
		}
	}
	return out, next
}
