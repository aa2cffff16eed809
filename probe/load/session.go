package load

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/textproto"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pecspec/pecspec/probe"
)

// session is one run: its mailboxes watched, its connections, the messages
// in flight and the phases.
type session struct {
	opts     Options
	run      string
	t0       time.Time
	senders  []probe.Account
	rcpts    []probe.Account
	subs     []*submitter
	watchers []*Watcher
	janitors map[*Watcher]*janitor
	want     [nWait]int
	series   *series
	sampler  *sampler
	grading  *grading

	mu    sync.Mutex
	table map[int64]*tracked
	seq   atomic.Int64
	phase atomic.Pointer[Phase]
}

// newSession checks the options, and opens every watched mailbox and one
// submission session per sender: a refused login is a harness error.
func newSession(ctx context.Context, opts Options) (*session, error) {
	opts.defaults()
	if err := opts.check(); err != nil {
		return nil, err
	}
	t, cp := opts.Target, opts.Target.Counterpart
	s := &session{opts: opts, run: runID(), table: map[int64]*tracked{}, janitors: map[*Watcher]*janitor{}}
	var err error
	senders := opts.Senders
	if senders <= 0 {
		senders = len(t.UserAccounts())
	}
	if s.senders, err = pool(t, senders, "senders"); err != nil {
		return nil, err
	}
	if s.rcpts, err = pool(cp, max(opts.Recipients, len(cp.UserAccounts())), "recipients"); err != nil {
		return nil, err
	}
	if err := s.openWatchers(ctx); err != nil {
		s.close()
		return nil, err
	}
	if err := s.openSubmitters(ctx); err != nil {
		s.close()
		return nil, err
	}
	s.sampler = newSampler(opts.GradeSample)
	if opts.Grader != nil && s.sampler != nil {
		s.grading = startGrading(opts.Grader, opts.Evidence)
	}
	return s, nil
}

func runID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// openWatchers watches the senders (accettazione, avvenuta consegna, error
// notices), the target's service mailbox (presa in carico, RFC 6109 §3.2.1)
// and the recipients at the counterpart (the busta di trasporto).
func (s *session) openWatchers(ctx context.Context) error {
	t, cp := s.opts.Target, s.opts.Target.Counterpart
	type box struct {
		what string
		ep   probe.Endpoint
		acct probe.Account
	}
	var boxes []box
	for _, a := range s.senders {
		boxes = append(boxes, box{"imap of " + t.Name, t.IMAP, a})
	}
	s.want[iAcc], s.want[iCons] = 1, s.opts.Recipients
	if t.ReceiptsMailbox.Address != "" {
		boxes = append(boxes, box{"imap of " + t.Name, t.IMAP, t.ReceiptsMailbox})
		s.want[iPic] = 1 // one provider, the counterpart, takes charge of every recipient
	}
	for _, a := range s.rcpts {
		boxes = append(boxes, box{"imap of " + cp.Name, cp.IMAP, a})
	}
	s.want[iTras] = s.opts.Recipients
	wopts := WatchOptions{Daticert: true, Full: s.wantsFull}
	for _, b := range boxes {
		w, err := OpenWatcher(ctx, b.what, b.ep, s.opts.Roots, b.acct, wopts)
		if err != nil {
			return err
		}
		s.watchers = append(s.watchers, w)
		if s.opts.Keep {
			continue
		}
		j, err := openJanitor(ctx, b.ep, s.opts.Roots, b.acct)
		if err != nil {
			return &HarnessError{What: b.what, Endpoint: b.ep.Addr(), Err: err}
		}
		s.janitors[w] = j
	}
	return nil
}

// openSubmitters opens the connections; the first one of each sender
// proves its credentials.
func (s *session) openSubmitters(ctx context.Context) error {
	t := s.opts.Target
	for i := range s.opts.Connections {
		sub := &submitter{ep: t.Submission, roots: s.opts.Roots, acct: s.senders[i%len(s.senders)]}
		s.subs = append(s.subs, sub)
		if i >= len(s.senders) {
			continue
		}
		if err := sub.connect(ctx); err != nil {
			return &HarnessError{What: "submission of " + t.Name, Endpoint: t.Submission.Addr(), Err: err,
				Hint: "check the submission endpoint, its TLS mode and the account's password in the target file"}
		}
	}
	return nil
}

// wantsFull decides, from an arrival's header, whether it is sampled for
// grading (its whole message is then fetched).
func (s *session) wantsFull(h textproto.MIMEHeader) bool {
	if s.grading == nil {
		return false
	}
	k, _, ok := classify(h.Get("X-Ricevuta"), h.Get("X-Trasporto"))
	if !ok {
		return false
	}
	if run, _, ok := messageToken(h.Get); !ok || run != s.run {
		return false
	}
	return s.sampler.pick(k)
}

// close ends every session the run opened.
func (s *session) close() {
	for _, sub := range s.subs {
		sub.close()
	}
	for _, w := range s.watchers {
		w.Close()
	}
}

// watch runs the watchers and janitors until ctx is done; the first
// watcher failure is sent on errc.
func (s *session) watch(ctx context.Context, errc chan<- error) *sync.WaitGroup {
	var wg sync.WaitGroup
	for _, w := range s.watchers {
		j := s.janitors[w]
		var expunge func(uint32)
		if j != nil {
			expunge = j.add
			wg.Go(func() { j.run(ctx) })
		}
		wg.Go(func() {
			if err := w.Run(ctx, s.handle, expunge); err != nil {
				select {
				case errc <- err:
				default:
				}
			}
		})
	}
	return &wg
}

// handle counts one arrival; it returns true for this run's messages (the
// janitor deletes them).
func (s *session) handle(a *Arrival) bool {
	k, detail, ok := classify(a.Header.Get("X-Ricevuta"), a.Header.Get("X-Trasporto"))
	if !ok {
		return false
	}
	run, seq, ok := messageToken(a.Header.Get)
	if !ok || run != s.run {
		return false
	}
	s.mu.Lock()
	t := s.table[seq]
	if t == nil {
		s.mu.Unlock()
		if p := s.phase.Load(); p != nil {
			p.unmatched()
		}
		return !s.opts.Keep
	}
	t.count(k, detail, a.At)
	done := t.complete()
	if done {
		delete(s.table, seq)
	}
	intended, eod := t.intended, t.eod
	s.mu.Unlock()
	t.phase.recordArrival(k, detail, intended, eod, a)
	s.series.record(k, a.At.Sub(intended))
	if a.Raw != nil && s.grading != nil {
		s.grading.submit(gradeJob{phase: t.phase, kind: k, raw: a.Raw})
	}
	if done {
		t.phase.closed(true, a.At, nil)
		s.series.complete()
		s.observe(t, false)
	}
	return !s.opts.Keep
}

func (s *session) observe(t *tracked, lost bool) {
	if s.opts.OnMessage != nil {
		s.opts.OnMessage(t.result(lost))
	}
}

func (s *session) inFlight() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.table))
}

// errStopped is returned when the run was interrupted.
var errStopped = errors.New("load: interrupted")
