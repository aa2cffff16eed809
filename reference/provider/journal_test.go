package provider

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pecspec/pecspec/internal/testpki"
	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/reference/accesspoint"
	"github.com/pecspec/pecspec/reference/antivirus"
	"github.com/pecspec/pecspec/reference/clock"
	"github.com/pecspec/pecspec/reference/compose"
	"github.com/pecspec/pecspec/reference/index"
	"github.com/pecspec/pecspec/reference/mailbox"
	"github.com/pecspec/pecspec/reference/queue"
	"github.com/pecspec/pecspec/reference/spool"
	"github.com/pecspec/pecspec/reference/tracker"
	"github.com/pecspec/pecspec/reference/txlog"
)

const sender = "mario@pec.alpha.test"

// forgetful is a journal whose End is lost, as an unlink a crash overtook.
type forgetful struct{ *journal }

func (forgetful) End(*accesspoint.Commit) {}

// alphaOn opens the sending instance's stores on dir, as a start does, and
// its access point, writing through crash when given (its outputs fail
// after crash.left), else straight to the stores.
func alphaOn(t *testing.T, dir string, sealer *compose.Sealer, crash *crashing) *Provider {
	t.Helper()
	st, err := mailbox.Open(filepath.Join(dir, "mail"))
	if err != nil || st.AddMailbox(sender) != nil {
		t.Fatal(err)
	}
	p := &Provider{log: slog.New(slog.DiscardHandler), store: st}
	if p.spool, err = spool.Open(filepath.Join(dir, "spool")); err != nil {
		t.Fatal(err)
	}
	if p.journal, err = openJournal(filepath.Join(dir, "journal"), p.spool); err != nil {
		t.Fatal(err)
	}
	if p.queue, err = queue.Open(queue.Options{Dir: filepath.Join(dir, "queue"), Router: queue.StaticRoutes{}}); err != nil {
		t.Fatal(err)
	}
	if p.reg, err = txlog.Open(filepath.Join(dir, "registro")); err != nil {
		t.Fatal(err)
	}
	if p.track, err = tracker.Open(tracker.Options{Dir: filepath.Join(dir, "tracker")}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.queue.Close(); p.reg.Close() })
	out := &crashing{out: &outbox{store: st, queue: p.queue}, reg: registro{p.reg}, left: -1}
	if crash != nil {
		crash.out, crash.reg, out = out.out, out.reg, crash
	}
	clean := antivirus.Func(func(context.Context, io.Reader) (antivirus.Result, error) { return antivirus.Result{}, nil })
	p.ap = &accesspoint.Point{Sealer: sealer, Scanner: clean, Out: out, Registro: out,
		Directory: index.NewMemory(index.Provider{Name: "Beta", Domains: []string{"pec.beta.test"}}),
		Clock:     clock.System{}, Spool: p.spool, Journal: p.journal, Tracker: p.track, MaxTotal: 8 << 20}
	return p
}

// TestCommitReplay: a submission is accepted while the instance crashes
// after each possible number of its outputs (accettazione, registro record,
// envelope), small and large (queued by reference), and once with the
// journal's End lost; after the restart, which replays the journal, the
// sender has exactly one accettazione, the queue one envelope, the registro
// one accettazione record, the tracker one dispatch, and the journal is
// empty (issue 15: SIGKILL between the envelope and the accettazione).
func TestCommitReplay(t *testing.T) {
	sealer := testSealer(t, testpki.NewCA(t), "pec.alpha.test")
	for _, size := range []int{0, spool.Small + 10} {
		for crash := 0; crash <= 4; crash++ {
			dir := t.TempDir()
			c := &crashing{left: crash}
			a := alphaOn(t, dir, sealer, c)
			if crash == 4 {
				c.left, a.ap.Journal = -1, forgetful{a.journal}
			}
			sub := accesspoint.Submission{User: sender, From: sender, To: []string{"bob@pec.beta.test"},
				Message: received(t, a.spool, size)}
			if err := a.ap.Accept(context.Background(), sub); err != nil {
				t.Fatalf("size %d, crash after %d: Accept: %v (the journal holds it: accepted)", size, crash, err)
			}
			a.queue.Close()
			a.reg.Close()
			b := alphaOn(t, dir, sealer, nil)
			if err := b.replayJournal(); err != nil {
				t.Fatalf("size %d, crash after %d: replay: %v", size, crash, err)
			}
			b.check(t, dir, size, crash)
		}
	}
}

// received is a submission of about size bytes as the SMTP server spools it.
func received(t *testing.T, sp *spool.Dir, size int) *spool.Message {
	body := strings.Repeat("testo del messaggio\r\n", size/21+1)
	raw := "From: " + sender + "\r\nTo: bob@pec.beta.test\r\nSubject: Prova\r\nMessage-ID: <j1@client>\r\n\r\n" + body
	m, err := sp.Receive(nil, bytes.NewReader([]byte(raw)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// check counts what the restarted instance holds.
func (p *Provider) check(t *testing.T, dir string, size, crash int) {
	t.Helper()
	names, _ := p.store.List(sender)
	records := 0
	_ = txlog.Scan(filepath.Join(dir, "registro"), func(r *txlog.Record) error {
		if r.Event == txlog.EventAccettazione {
			records++
		}
		return nil
	})
	var envelopes [][]byte
	for _, m := range queued(t, filepath.Join(dir, "queue")) {
		if len(m) > 0 { // an item queued by reference has its message in <id>.body
			envelopes = append(envelopes, m)
		}
	}
	bodies, _ := filepath.Glob(filepath.Join(dir, "queue", "*.body"))
	for _, b := range bodies {
		data, err := os.ReadFile(b)
		if err != nil {
			t.Fatal(err)
		}
		envelopes = append(envelopes, data)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "journal", "*"+commitExt))
	if len(names) != 1 || records != 1 || len(envelopes) != 1 || p.track.Len() != 1 || len(left) != 0 {
		t.Fatalf("size %d, crash after %d: %d receipts, %d records, %d envelopes, %d dispatches, %d journal entries; want 1, 1, 1, 1, 0",
			size, crash, len(names), records, len(envelopes), p.track.Len(), len(left))
	}
	if env := pec.Parse(envelopes[0]); env.Kind() != pec.KindTrasporto || len(envelopes[0]) < size {
		t.Errorf("size %d, crash after %d: queued %s of %d bytes", size, crash, env.Kind(), len(envelopes[0]))
	}
}
