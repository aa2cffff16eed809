package queue

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pecspec/pecspec/internal/durable"
)

// ledger remembers, durably, the items the queue has finished with (sent or
// given up), so that an item with the same ID enqueued again — a reception
// replayed after a crash (package once) — is not sent twice. Entries are kept
// for twice the queue lifetime, the longest a sender keeps retrying.
type ledger struct {
	mu   sync.Mutex
	path string
	f    *os.File
	sync *durable.Group // appends of concurrent deliveries share an fsync
	done map[string]time.Time
}

const ledgerFile = "sent.log"

// openLedger reads the ledger, dropping entries older than keep, and rewrites
// it compacted.
func openLedger(dir string, now time.Time, keep time.Duration) (*ledger, error) {
	l := &ledger{path: filepath.Join(dir, ledgerFile), done: map[string]time.Time{}}
	if f, err := os.Open(l.path); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			sec, id, ok := strings.Cut(sc.Text(), " ")
			n, err := strconv.ParseInt(sec, 10, 64)
			if !ok || err != nil || id == "" {
				continue // a line torn by a crash
			}
			if t := time.Unix(n, 0); now.Sub(t) < keep {
				l.done[id] = t
			}
		}
		f.Close()
	}
	var b strings.Builder
	for id, t := range l.done {
		fmt.Fprintf(&b, "%d %s\n", t.Unix(), id)
	}
	if err := durable.Write(l.path+".tmp", l.path, []byte(b.String())); err != nil {
		return nil, fmt.Errorf("queue: ledger: %w", err)
	}
	f, err := os.OpenFile(l.path, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("queue: ledger: %w", err)
	}
	l.f, l.sync = f, durable.NewGroup(f.Sync)
	return l, nil
}

// has reports whether id was finished with.
func (l *ledger) has(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.done[id]
	return ok
}

// add records id durably: the line is appended under the lock (and the id
// counts as finished from then on), the fsync is shared with concurrent adds.
func (l *ledger) add(id string, now time.Time) error {
	l.mu.Lock()
	_, err := fmt.Fprintf(l.f, "%d %s\n", now.Unix(), id)
	if err == nil {
		l.done[id] = now
	}
	l.mu.Unlock()
	if err != nil {
		return err
	}
	return l.sync.Sync()
}

func (l *ledger) close() error { return l.f.Close() }
