// Package tracker is the sender provider's memory of every certified message
// it dispatched (RFC 6109 §3.1.6, §2.1.1.1.2): per certificato recipient it
// records whether a presa in carico and an outcome (consegna, mancata consegna,
// virus) came back, and on the provider's one clock it fires the 12 h notice
// (neither came within 12 h) and the 24 h notice (no outcome within 24 h),
// then forgets the recipient (TIM-02…05). State is on disk (fsync) before a
// call returns, so a restart resumes the timers.
//
// Recipients of esterno (non-PEC) domains are not tracked: no receipt can
// ever come back from them (pec-rules A21; docs/reference.md).
package tracker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/pecspec/pecspec/internal/durable"
)

// The two deadlines of RFC 6109 §3.1.6, counted from dispatch.
const (
	Warn     = 12 * time.Hour
	Deadline = 24 * time.Hour
)

// Dispatch is what the access point accepted: the facts a timeout notice
// repeats (RFC 6109 §3.1.6) and the recipients to follow.
type Dispatch struct {
	ID         string    // identificativo: the PEC msgid, no brackets
	MsgID      string    // the client's Message-ID, with brackets ("" when none)
	Subject    string    // decoded
	Sender     string    // the authenticated sender
	ReplyTo    string    // "" when the original had none
	Recipients []Party   // every To/Cc recipient with its type, in order
	Instant    time.Time // the acceptance instant, which starts the timers
}

// Party is one recipient of the original and whether its domain is PEC.
type Party struct {
	Address   string
	Certified bool
}

// Emit sends one timeout notice (hours is 12 or 24) for one recipient; it is
// durable when it returns nil.
type Emit func(d Dispatch, recipient string, hours int) error

// follow is the state of one tracked recipient.
type follow struct {
	Address string
	Taken   bool // a presa in carico covering it came back
	Done    bool // consegna, mancata consegna or virus: nothing more is owed
	Sent12  bool
	Sent24  bool
	TakenAt time.Time
	EndedAt time.Time
}

type record struct {
	Dispatch Dispatch
	Follow   []follow
	// wmu orders the writes of this record's file (save): they run outside
	// t.mu, so records of different messages are written concurrently.
	wmu sync.Mutex
}

func (r *record) open() bool {
	for _, f := range r.Follow {
		if !f.Done && !f.Sent24 {
			return true
		}
	}
	return false
}

// Options configures a Tracker.
type Options struct {
	Dir   string
	Clock func() time.Time
	Emit  Emit
	Log   *slog.Logger
}

// Tracker follows dispatched messages until every recipient has an outcome
// or its 24 h notice.
type Tracker struct {
	o     Options
	files *durable.Pool // record files are recycled, not deleted (durable.Pool)
	mu    sync.Mutex
	recs  map[string]*record
	wake  chan struct{}
	// run serialises Process: the timer loop and an admin clock advance.
	run sync.Mutex
}

// Open loads the records a previous run left in Dir.
func Open(o Options) (*Tracker, error) {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("tracker: %w", err)
	}
	files, err := durable.OpenPool(o.Dir, 1024)
	if err != nil {
		return nil, fmt.Errorf("tracker: %w", err)
	}
	t := &Tracker{o: o, files: files, recs: map[string]*record{}, wake: make(chan struct{}, 1)}
	entries, err := os.ReadDir(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("tracker: %w", err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".rec.tmp") {
			// A write a crash interrupted, or a replaced record not yet parked.
			_ = t.files.Remove(filepath.Join(o.Dir, e.Name()))
			continue
		}
		if !strings.HasSuffix(e.Name(), ".rec") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(o.Dir, e.Name()))
		var r record
		if err == nil {
			err = msgpack.Unmarshal(data, &r)
		}
		if err != nil || r.Dispatch.ID == "" {
			// Keep the bytes for the operator; the other records still run.
			o.Log.Error("corrupt tracker record moved aside", "role", "tracker", "file", e.Name(), "err", err)
			_ = os.Rename(filepath.Join(o.Dir, e.Name()), filepath.Join(o.Dir, e.Name()+".bad"))
			continue
		}
		if p := t.path(r.Dispatch.ID); filepath.Base(p) != e.Name() {
			// Named by an earlier naming rule: moved to today's name.
			if err := os.Rename(filepath.Join(o.Dir, e.Name()), p); err != nil {
				return nil, fmt.Errorf("tracker: %w", err)
			}
		}
		t.recs[key(r.Dispatch.ID)] = &r
	}
	return t, nil
}

func key(id string) string { return strings.ToLower(strings.Trim(strings.TrimSpace(id), "<>")) }

func (t *Tracker) path(id string) string {
	// The identificativo is alphanumerics, dots and one @ (TRN-06); anything
	// else is replaced so that a hostile id cannot leave the directory, and
	// then a hash of the id keeps two such ids from sharing a file.
	k := key(id)
	name := strings.Map(func(r rune) rune {
		if r == '.' || r == '@' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' {
			return r
		}
		return '_'
	}, k)
	if name != k {
		sum := sha256.Sum256([]byte(k))
		name += "_" + hex.EncodeToString(sum[:6])
	}
	return filepath.Join(t.o.Dir, name+".rec")
}

// save writes r's current state durably, or removes its file when nothing
// is owed any more. Callers do not hold t.mu: the state is read under t.mu
// and r.wmu, then written under r.wmu alone, so the fsyncs of different
// messages overlap and the last write of a record carries its latest state.
func (t *Tracker) save(r *record) error {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	p := t.path(r.Dispatch.ID)
	t.mu.Lock()
	open := r.open()
	var data []byte
	var err error
	if open {
		data, err = msgpack.Marshal(r)
	} else {
		delete(t.recs, key(r.Dispatch.ID))
	}
	t.mu.Unlock()
	switch {
	case err != nil:
		return fmt.Errorf("tracker: %w", err)
	case !open:
		if err := t.files.Remove(p); err != nil {
			return fmt.Errorf("tracker: %w", err)
		}
		return durable.SyncDir(t.o.Dir)
	}
	return t.files.Write(p, data)
}

// Track starts the timers of a dispatched message (RFC 6109 §3.1.6): one per
// certificato recipient. A message without one is not recorded. A message
// already tracked keeps its record and what it learnt (a commit the access
// point replays after a crash tracks it again).
func (t *Tracker) Track(d Dispatch) error {
	r := &record{Dispatch: d}
	seen := map[string]bool{}
	for _, p := range d.Recipients {
		a := strings.ToLower(strings.TrimSpace(p.Address))
		if p.Certified && !seen[a] {
			seen[a] = true
			r.Follow = append(r.Follow, follow{Address: a})
		}
	}
	if len(r.Follow) == 0 {
		return nil
	}
	t.mu.Lock()
	if _, ok := t.recs[key(d.ID)]; ok {
		t.mu.Unlock()
		return nil
	}
	t.recs[key(d.ID)] = r
	t.mu.Unlock()
	if err := t.save(r); err != nil {
		return err
	}
	t.kick()
	return nil
}

// TakenInCharge records a presa in carico for the recipients it covers
// (daticert ricezione).
func (t *Tracker) TakenInCharge(id string, covered []string) error {
	return t.update(id, covered, func(f *follow, now time.Time) {
		if !f.Taken {
			f.Taken, f.TakenAt = true, now
		}
	})
}

// Outcome records that the transaction of one recipient ended: avvenuta
// consegna, mancata consegna, or a virus.
func (t *Tracker) Outcome(id, recipient string) error {
	return t.update(id, []string{recipient}, func(f *follow, now time.Time) {
		if !f.Done {
			f.Done, f.EndedAt = true, now
		}
	})
}

func (t *Tracker) update(id string, rcpts []string, apply func(*follow, time.Time)) error {
	t.mu.Lock()
	r := t.recs[key(id)]
	if r == nil {
		t.mu.Unlock()
		return nil // not ours, or already finished
	}
	now := t.o.Clock()
	changed := false
	for i := range r.Follow {
		if slices.ContainsFunc(rcpts, func(a string) bool { return strings.EqualFold(strings.TrimSpace(a), r.Follow[i].Address) }) {
			apply(&r.Follow[i], now)
			changed = true
		}
	}
	t.mu.Unlock()
	if !changed {
		return nil
	}
	return t.save(r)
}

// Len is the number of messages still followed.
func (t *Tracker) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.recs)
}

func (t *Tracker) kick() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// Kick makes the timer loop look at the clock again (after it was advanced).
func (t *Tracker) Kick() { t.kick() }

// Run fires the timers until ctx is done. It sleeps until the next deadline
// or a Kick, never polling.
func (t *Tracker) Run(ctx context.Context) error {
	for {
		t.Process()
		var timer *time.Timer
		var fire <-chan time.Time
		if next, ok := t.NextDue(); ok {
			timer = time.NewTimer(max(next.Sub(t.o.Clock()), 10*time.Millisecond))
			fire = timer.C
		}
		select {
		case <-ctx.Done():
		case <-t.wake:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}
