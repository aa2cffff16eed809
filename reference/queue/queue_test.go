package queue

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/pecspec/pecspec/internal/testpki"
)

// mx is a test SMTP server recording transactions; reply decides DATA's answer.
type mx struct {
	mu          sync.Mutex
	tlsSessions int // connections that reached TLS
	got         []txn
	reply       func(n int) error // n = 1 for the first DATA
	notify      chan txn
}

type txn struct {
	from    string
	to      []string
	data    []byte
	tls     bool
	readErr error // DATA ended by a broken connection, not by the final dot
}

func (m *mx) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	if isTLS {
		m.mu.Lock()
		m.tlsSessions++
		m.mu.Unlock()
	}
	return &mxSession{m: m, t: txn{tls: isTLS}}, nil
}

type mxSession struct {
	m *mx
	t txn
}

func (s *mxSession) Mail(from string, _ *smtp.MailOptions) error { s.t.from = from; return nil }
func (s *mxSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.t.to = append(s.t.to, to)
	return nil
}
func (s *mxSession) Reset()        { s.t = txn{tls: s.t.tls} }
func (s *mxSession) Logout() error { return nil }
func (s *mxSession) Data(r io.Reader) error {
	data, rerr := io.ReadAll(r)
	s.t.data, s.t.readErr = data, rerr
	s.m.mu.Lock()
	s.m.got = append(s.m.got, s.t)
	n := len(s.m.got)
	s.m.mu.Unlock()
	err := rerr
	if err == nil && s.m.reply != nil {
		err = s.m.reply(n)
	}
	if err == nil {
		s.m.notify <- s.t
	}
	return err
}

// startMX serves on 127.0.0.1:0, with STARTTLS when withTLS.
func startMX(t *testing.T, withTLS bool) (*mx, string, *x509.CertPool) {
	t.Helper()
	ca := testpki.NewCA(t)
	pool := ca.Pool
	m := &mx{notify: make(chan txn, 16)}
	srv := smtp.NewServer(m)
	srv.Domain = "mx.test"
	if withTLS {
		srv.TLSConfig = ca.ServerTLS(t)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return m, l.Addr().String(), pool
}

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func open(t *testing.T, dir, addr string, pool *x509.CertPool, clk *clock, o func(*Options)) *Queue {
	t.Helper()
	opts := Options{Dir: dir, Router: StaticRoutes{"pec.beta.test": addr, "example.org": addr},
		TLS: &tls.Config{RootCAs: pool}, HeloName: "pec.alpha.test", Clock: clk.Now, Workers: 2}
	if o != nil {
		o(&opts)
	}
	q, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func run(t *testing.T, q *Queue) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { q.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func wait[T any](t *testing.T, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("timed out")
	}
	var zero T
	return zero
}

const msg = "Subject: x\r\n\r\nbody\r\n"

func TestDeliverOverSTARTTLS(t *testing.T) {
	m, addr, pool := startMX(t, true)
	q := open(t, t.TempDir(), addr, pool, &clock{now: time.Now()}, nil)
	run(t, q)
	if _, err := q.Enqueue(Item{From: "alice@pec.alpha.test", To: []string{"bob@pec.beta.test"}, Data: []byte(msg)}); err != nil {
		t.Fatal(err)
	}
	got := wait(t, m.notify)
	if !got.tls || got.from != "alice@pec.alpha.test" || len(got.to) != 1 || string(got.data) != msg {
		t.Errorf("got %+v", got)
	}
}

func TestSurvivesRestart(t *testing.T) {
	m, addr, pool := startMX(t, true)
	dir := t.TempDir()
	clk := &clock{now: time.Now()}
	q := open(t, dir, addr, pool, clk, nil)
	if _, err := q.Enqueue(Item{From: "a@pec.alpha.test", To: []string{"b@pec.beta.test"}, Data: []byte(msg)}); err != nil {
		t.Fatal(err)
	}
	q.Close() // never ran: the item is only on disk
	q2 := open(t, dir, addr, pool, clk, nil)
	if q2.Len() != 1 {
		t.Fatalf("reopened queue holds %d items, want 1", q2.Len())
	}
	run(t, q2)
	if got := wait(t, m.notify); string(got.data) != msg {
		t.Errorf("data %q", got.data)
	}
}

func TestRetryAfterTemporaryFailure(t *testing.T) {
	m, addr, pool := startMX(t, true)
	m.reply = func(n int) error {
		if n == 1 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		}
		return nil
	}
	clk := &clock{now: time.Now()}
	deferred := make(chan struct{}, 1)
	q := open(t, t.TempDir(), addr, pool, clk, func(o *Options) {
		o.Backoff = func(int) time.Duration { deferred <- struct{}{}; return time.Hour }
	})
	run(t, q)
	q.Enqueue(Item{From: "a@pec.alpha.test", To: []string{"b@pec.beta.test"}, Data: []byte(msg)})
	wait(t, deferred) // first attempt refused, retry in one (clock) hour
	clk.add(time.Hour)
	q.Kick()
	// The second attempt streams the file rewritten with the new metadata.
	if got := wait(t, m.notify); string(got.data) != msg {
		t.Errorf("retried message %q, want %q", got.data, msg)
	}
}

func TestPermanentFailureAndExpiry(t *testing.T) {
	m, addr, pool := startMX(t, true)
	m.reply = func(int) error {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no"}
	}
	failed := make(chan error, 4)
	clk := &clock{now: time.Now()}
	q := open(t, t.TempDir(), addr, pool, clk, func(o *Options) { o.OnFailure = func(_ Item, err error) error { failed <- err; return nil } })
	run(t, q)
	q.Enqueue(Item{From: "a@pec.alpha.test", To: []string{"b@pec.beta.test"}, Data: []byte(msg)})
	if err := wait(t, failed); !errors.Is(err, ErrPermanent) {
		t.Errorf("5xx: err %v, want ErrPermanent", err)
	}

	// An unreachable route past the lifetime (TIM-08) expires.
	q2 := open(t, t.TempDir(), "127.0.0.1:1", pool, clk, func(o *Options) {
		o.OnFailure = func(_ Item, err error) error { failed <- err; return nil }
		o.Lifetime = 24 * time.Hour
		o.Backoff = func(int) time.Duration { return time.Hour }
	})
	run(t, q2)
	// Created 25 h ago by the queue's clock: the next attempt finds it past
	// its lifetime (moving the clock during an attempt would race it).
	q2.Enqueue(Item{From: "a@pec.alpha.test", To: []string{"b@pec.beta.test"}, Data: []byte(msg),
		Created: clk.Now().Add(-25 * time.Hour)})
	if err := wait(t, failed); !errors.Is(err, ErrExpired) {
		t.Errorf("past the lifetime: err %v, want ErrExpired", err)
	}
	// The callback comes before the removal (at least once): wait for it.
	for deadline := time.Now().Add(10 * time.Second); q2.Len() != 0 && time.Now().Before(deadline); {
		runtime.Gosched()
	}
	if q2.Len() != 0 {
		t.Errorf("expired item still queued")
	}
}

func TestSTARTTLSRequired(t *testing.T) {
	m, addr, pool := startMX(t, false)
	deferred := make(chan struct{}, 4)
	q := open(t, t.TempDir(), addr, pool, &clock{now: time.Now()}, func(o *Options) {
		o.PlainDomains = []string{"example.org"}
		o.Backoff = func(int) time.Duration { deferred <- struct{}{}; return time.Hour }
	})
	run(t, q)
	q.Enqueue(Item{From: "a@pec.alpha.test", To: []string{"b@pec.beta.test"}, Data: []byte(msg)})
	wait(t, deferred) // PEC domain without STARTTLS: not delivered (RFC 6109 §5.3)
	q.Enqueue(Item{From: "a@pec.alpha.test", To: []string{"c@example.org"}, Data: []byte(msg)})
	if got := wait(t, m.notify); got.tls || got.to[0] != "c@example.org" {
		t.Errorf("plain domain delivery: %+v", got)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.got) != 1 {
		t.Errorf("%d transactions, want only the plain domain's", len(m.got))
	}
}

func BenchmarkEnqueue(b *testing.B) {
	q, err := Open(Options{Dir: b.TempDir(), Router: StaticRoutes{}})
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 10<<10)
	for i := 0; i < b.N; i++ {
		if _, err := q.Enqueue(Item{From: "a@x", To: []string{"b@y"}, Data: data}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSameIDSentOnce: an item enqueued again under the ID of one pending or
// already sent — a reception replayed after a crash — is not sent twice, even
// across a restart; a file that a crash left behind after sending is dropped.
func TestSameIDSentOnce(t *testing.T) {
	m, addr, pool := startMX(t, true)
	dir := t.TempDir()
	clk := &clock{now: time.Now()}
	sent := make(chan Item, 1)
	q := open(t, dir, addr, pool, clk, func(o *Options) { o.OnDelivered = func(it Item) { sent <- it } })
	it := Item{ID: "k-1", From: "a@pec.alpha.test", To: []string{"b@pec.beta.test"}, Data: []byte(msg)}
	for range 2 {
		if _, err := q.Enqueue(it); err != nil {
			t.Fatal(err)
		}
	}
	if q.Len() != 1 {
		t.Fatalf("pending items %d, want 1", q.Len())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { q.Run(ctx); close(done) }()
	wait(t, m.notify)
	wait(t, sent) // called once the item is finished with
	cancel()
	<-done
	if _, err := q.Enqueue(it); err != nil || q.Len() != 0 {
		t.Fatalf("re-enqueue after sending: len %d, %v", q.Len(), err)
	}
	q.Close()
	// A crash between the ledger and the removal leaves the file: simulate it.
	q.persist(&it, it.Data, len(it.Data))
	q2 := open(t, dir, addr, pool, clk, nil)
	if _, err := q2.Enqueue(it); err != nil || q2.Len() != 0 {
		t.Fatalf("after restart: len %d, %v", q2.Len(), err)
	}
	if _, err := os.Stat(filepath.Join(dir, "k-1.msg")); !os.IsNotExist(err) {
		t.Errorf("the file of a sent item survived the restart: %v", err)
	}
	if len(m.got) != 1 {
		t.Errorf("%d transactions, want 1", len(m.got))
	}
}

// TestMessageOnDiskOnly: an enqueued item keeps its message in its file, not
// in memory (a 50 MB envelope waits without being held), and is delivered
// byte for byte; a file of the earlier format (the whole item in msgpack) is
// still loaded and delivered.
func TestMessageOnDiskOnly(t *testing.T) {
	m, addr, pool := startMX(t, true)
	dir := t.TempDir()
	clk := &clock{now: time.Now()}
	q := open(t, dir, addr, pool, clk, nil)
	id, err := q.Enqueue(Item{From: "a@pec.alpha.test", To: []string{"b@pec.beta.test"}, Data: []byte(msg)})
	if err != nil {
		t.Fatal(err)
	}
	q.mu.Lock()
	held := q.items[id].Data
	q.mu.Unlock()
	if held != nil {
		t.Errorf("the queue holds the message in memory (%d bytes)", len(held))
	}
	if raw, _ := os.ReadFile(filepath.Join(dir, id+".msg")); !strings.HasPrefix(string(raw), fileMagic) || !strings.HasSuffix(string(raw), msg) {
		t.Errorf("queue file: %q", raw)
	}
	// The earlier format: the whole item in msgpack with Go's field names as
	// keys (no tags), written here by a struct of that shape.
	type earlierItem struct {
		ID       string
		From     string
		To       []string
		Data     []byte
		Created  time.Time
		Attempts int
		NextTry  time.Time
		LastErr  string
	}
	old, err := msgpack.Marshal(&earlierItem{ID: "old-1", From: "a@pec.alpha.test", To: []string{"c@pec.beta.test"},
		Data: []byte(msg), Created: clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "old-1.msg"), old, 0o600); err != nil {
		t.Fatal(err)
	}
	q.Close()
	q2 := open(t, dir, addr, pool, clk, nil)
	if q2.Len() != 2 {
		t.Fatalf("reopened queue holds %d items, want 2", q2.Len())
	}
	run(t, q2)
	for range 2 {
		if got := wait(t, m.notify); string(got.data) != msg {
			t.Errorf("data %q", got.data)
		}
	}
}

// TestSessionReused: deliveries to the same provider one after the other go
// over one SMTP session (one STARTTLS), each transaction with its own
// envelope.
func TestSessionReused(t *testing.T) {
	m, addr, pool := startMX(t, true)
	delivered := make(chan Item, 4)
	q := open(t, t.TempDir(), addr, pool, &clock{now: time.Now()}, func(o *Options) {
		o.OnDelivered = func(it Item) { delivered <- it }
	})
	run(t, q)
	for i, to := range []string{"bob@pec.beta.test", "carol@pec.beta.test", "dave@pec.beta.test"} {
		if _, err := q.Enqueue(Item{From: "alice@pec.alpha.test", To: []string{to}, Data: []byte(msg)}); err != nil {
			t.Fatal(err)
		}
		got := wait(t, m.notify)
		if len(got.to) != 1 || got.to[0] != to || !got.tls {
			t.Errorf("delivery %d: %+v", i, got)
		}
		wait(t, delivered)
	}
	m.mu.Lock()
	n := m.tlsSessions
	m.mu.Unlock()
	if n != 1 {
		t.Errorf("%d TLS sessions for three deliveries, want 1", n)
	}
}

// TestFilesRecycled: a sent item's file is parked, not deleted, and the next
// item is written into it (durable.Pool: no inode churn), which a reopened
// queue does not mistake for an item.
func TestFilesRecycled(t *testing.T) {
	m, addr, pool := startMX(t, true)
	dir := t.TempDir()
	clk := &clock{now: time.Now()}
	sent := make(chan Item, 1)
	q := open(t, dir, addr, pool, clk, func(o *Options) { o.OnDelivered = func(it Item) { sent <- it } })
	ino := func(id string) uint64 {
		st, err := os.Stat(filepath.Join(dir, id+".msg"))
		if err != nil {
			t.Fatal(err)
		}
		return st.Sys().(*syscall.Stat_t).Ino
	}
	id1, err := q.Enqueue(Item{From: "a@pec.alpha.test", To: []string{"b@pec.beta.test"}, Data: []byte(msg)})
	if err != nil {
		t.Fatal(err)
	}
	first := ino(id1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { q.Run(ctx); close(done) }()
	wait(t, m.notify)
	wait(t, sent) // told after the item's file went
	cancel()
	<-done
	q.Close()
	if _, err := os.Stat(filepath.Join(dir, id1+".msg")); !os.IsNotExist(err) {
		t.Fatalf("sent item's file still in the queue: %v", err)
	}
	q2 := open(t, dir, addr, pool, clk, nil)
	if q2.Len() != 0 {
		t.Fatalf("reopened queue holds %d items, want 0", q2.Len())
	}
	id2, err := q2.Enqueue(Item{From: "a@pec.alpha.test", To: []string{"b@pec.beta.test"}, Data: []byte("Subject: y\r\n\r\nz\r\n")})
	if err != nil {
		t.Fatal(err)
	}
	if ino(id2) != first {
		t.Errorf("the second item got a new inode %d, not the parked %d", ino(id2), first)
	}
	run(t, q2)
	if got := wait(t, m.notify); string(got.data) != "Subject: y\r\n\r\nz\r\n" {
		t.Errorf("second item sent as %q", got.data)
	}
}

// failingAt is a message whose reading fails after n bytes (a disk error).
type failingAt struct {
	data []byte
	n    int64
}

func (f failingAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= f.n {
		return 0, errors.New("input/output error")
	}
	n := copy(p[:min(int64(len(p)), f.n-off)], f.data[off:])
	return n, nil
}

// TestPartialMessageNotSent: when the queue file cannot be read to its end
// mid-DATA, or is shorter than the item says, the transaction is abandoned
// (connection dropped, no final dot): the MX never accepts a truncated
// message, and the item stays to be retried.
func TestPartialMessageNotSent(t *testing.T) {
	m, addr, pool := startMX(t, true)
	q := open(t, t.TempDir(), addr, pool, &clock{now: time.Now()}, nil)
	data := []byte("Subject: big\r\n\r\n" + strings.Repeat("0123456789abcdef\r\n", 20000))
	for name, msg := range map[string]*io.SectionReader{
		"read error": io.NewSectionReader(failingAt{data, 100000}, 0, int64(len(data))),
		"short file": io.NewSectionReader(bytes.NewReader(data[:100000]), 0, int64(len(data))),
	} {
		t.Run(name, func(t *testing.T) {
			m.mu.Lock()
			before := len(m.got)
			m.mu.Unlock()
			c, err := q.dial(context.Background(), addr, false)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			failed, clean, err := transact(c, "a@pec.alpha.test", []string{"b@pec.beta.test"}, msg)
			if err == nil || clean || len(failed) != 1 {
				t.Fatalf("transact = %v, clean %v, %v; want an error, an unusable session, the recipient back", failed, clean, err)
			}
			// The MX sees the connection break inside DATA.
			deadline := time.Now().Add(10 * time.Second)
			for {
				m.mu.Lock()
				got := m.got[before:]
				m.mu.Unlock()
				if len(got) > 0 {
					if got[0].readErr == nil {
						t.Errorf("the MX read a complete DATA of %d bytes", len(got[0].data))
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the MX never saw the DATA end")
				}
				runtime.Gosched()
			}
			select {
			case tx := <-m.notify:
				t.Errorf("the MX accepted %d bytes", len(tx.data))
			default:
			}
		})
	}
}
