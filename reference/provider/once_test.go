package provider

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pecspec/pecspec/internal/testpki"
	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/pec/smime"
	"github.com/pecspec/pecspec/reference/clock"
	"github.com/pecspec/pecspec/reference/compose"
	"github.com/pecspec/pecspec/reference/deliverypoint"
	"github.com/pecspec/pecspec/reference/index"
	"github.com/pecspec/pecspec/reference/mailbox"
	"github.com/pecspec/pecspec/reference/once"
	"github.com/pecspec/pecspec/reference/queue"
	"github.com/pecspec/pecspec/reference/receptionpoint"
	"github.com/pecspec/pecspec/reference/spool"
	"github.com/pecspec/pecspec/reference/txlog"
)

var errCrash = errors.New("crashed")

// crashing lets the first left outputs through to the real stores and fails
// every later one: the state on disk is the one a kill -9 after left outputs
// leaves (each output is durable when it returns).
type crashing struct {
	out  *outbox
	reg  registro
	left int
}

func (c *crashing) step() error {
	if c.left == 0 {
		return errCrash
	}
	c.left--
	return nil
}

func (c *crashing) Deliver(ctx context.Context, a string, m []byte) error {
	if err := c.step(); err != nil {
		return err
	}
	return c.out.Deliver(ctx, a, m)
}

func (c *crashing) Send(ctx context.Context, from string, to []string, m []byte) error {
	if err := c.step(); err != nil {
		return err
	}
	return c.out.Send(ctx, from, to, m)
}

func (c *crashing) DeliverFile(ctx context.Context, a string, m *spool.Message) error {
	if err := c.step(); err != nil {
		return err
	}
	return c.out.DeliverFile(ctx, a, m)
}

func (c *crashing) SendFile(ctx context.Context, from string, to []string, m *spool.Message) error {
	if err := c.step(); err != nil {
		return err
	}
	return c.out.SendFile(ctx, from, to, m)
}

func (c *crashing) Append(ctx context.Context, rec *txlog.Record) error {
	if err := c.step(); err != nil {
		return err
	}
	return c.reg.Append(ctx, rec)
}

func (c *crashing) Exists(a string) bool      { return c.out.Exists(a) }
func (c *crashing) Fits(a string, n int) bool { return c.out.Fits(a, n) }

// beta is the receiving instance's stores, opened on dir as a start would.
type beta struct {
	store *mailbox.Store
	queue *queue.Queue
	reg   *txlog.Log
}

func openBeta(t *testing.T, dir string) *beta {
	t.Helper()
	st, err := mailbox.Open(filepath.Join(dir, "mail"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range rcpts {
		if err := st.AddMailbox(a); err != nil {
			t.Fatal(err)
		}
	}
	q, err := queue.Open(queue.Options{Dir: filepath.Join(dir, "queue"), Router: queue.StaticRoutes{}})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := txlog.Open(filepath.Join(dir, "registro"))
	if err != nil {
		t.Fatal(err)
	}
	return &beta{store: st, queue: q, reg: reg}
}

func (b *beta) close() { b.queue.Close(); b.reg.Close() }

var rcpts = []string{"alice@pec.beta.test", "bob@pec.beta.test", "carol@pec.beta.test"}

// outputs of one clean reception: presa in carico and its record, then per
// recipient the delivery, the receipt and its record.
var outputs = 2 + 3*len(rcpts)

// TestReplayInAnotherOrder: beta receives an envelope for three recipients
// and crashes after each possible number of outputs; after the restart the
// sending MTA's retry lists the recipients in the reverse order. Every
// recipient ends with exactly one envelope, the sender with one presa in
// carico and one avvenuta consegna per recipient, the registro with one
// record each: nothing duplicated, nothing lost (issue 15; package once).
func TestReplayInAnotherOrder(t *testing.T) {
	ca := testpki.NewCA(t)
	alpha, betaSealer := testSealer(t, ca, "pec.alpha.test"), testSealer(t, ca, "pec.beta.test")
	dir := index.NewMemory(index.Provider{Name: "Alpha", MailReceipt: "ricevute@pec.alpha.test",
		Domains: []string{"pec.alpha.test"}, Certificates: []*x509.Certificate{alpha.Cert}})
	env := testEnvelope(t, alpha)
	for crash := 0; crash <= outputs; crash++ {
		root := t.TempDir()
		for run, order := range [][]string{rcpts, reversed(rcpts)} {
			b := openBeta(t, root)
			c := &crashing{out: &outbox{store: b.store, queue: b.queue}, reg: registro{b.reg}, left: crash}
			if run == 1 {
				c.left = -1 // the replay runs to its end
			}
			dp := &deliverypoint.Point{Sealer: betaSealer, Store: c, Out: c, Clock: clock.System{}, Registro: c}
			rp := &receptionpoint.Point{Sealer: betaSealer, Directory: dir, Trust: ca.Pool, Delivery: toDelivery{dp},
				Out: c, Clock: clock.System{}, Domains: []string{"pec.beta.test"}, Registro: c}
			ctx := once.With(context.Background(), once.Key(order, env))
			err := rp.Receive(ctx, receptionpoint.Incoming{From: "mario@pec.alpha.test", To: order, Data: env})
			if (run == 1 || crash == outputs) != (err == nil) {
				t.Fatalf("crash after %d outputs, run %d: %v", crash, run, err)
			}
			if run == 1 {
				b.check(t, root, crash)
			}
			b.close()
		}
	}
}

// check counts what beta made: one of each, per recipient where due.
func (b *beta) check(t *testing.T, root string, crash int) {
	t.Helper()
	for _, a := range rcpts {
		if names, _ := b.store.List(a); len(names) != 1 {
			t.Errorf("crash after %d: %s holds %d envelopes, want 1", crash, a, len(names))
		}
	}
	receipts := map[string]int{}
	for _, msg := range queued(t, filepath.Join(root, "queue")) {
		m := pec.Parse(msg)
		receipts[string(m.Kind())+" "+pec.Deref(m.Postacert.Dati.Consegna)]++
	}
	records := map[string]int{}
	_ = txlog.Scan(filepath.Join(root, "registro"), func(r *txlog.Record) error {
		records[string(r.Event)+" "+r.Consegna]++
		return nil
	})
	want := map[string]int{string(pec.KindPresaInCarico) + " ": 1}
	wantRec := map[string]int{string(txlog.EventPresaInCarico) + " ": 1}
	for _, a := range rcpts {
		want[string(pec.KindAvvenutaConsegna)+" "+a] = 1
		wantRec[string(txlog.EventConsegna)+" "+a] = 1
	}
	if !equalCounts(receipts, want) || !equalCounts(records, wantRec) {
		t.Errorf("crash after %d:\nqueued %v\nwant   %v\nregistro %v\nwant     %v", crash, receipts, want, records, wantRec)
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// queued reads the messages of the queue's item files (PECQ2: magic, the
// metadata's length, the metadata, the message; docs/reference.md).
func queued(t *testing.T, dir string) [][]byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.msg"))
	var out [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil || len(data) < 10 || string(data[:6]) != "PECQ2\n" {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, data[10+binary.BigEndian.Uint32(data[6:10]):])
	}
	return out
}

func reversed(s []string) []string {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}

func testSealer(t *testing.T, ca *testpki.CA, domain string) *compose.Sealer {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	cert := ca.Leaf(t, domain, key.Public(), "posta-certificata@"+domain)
	return &compose.Sealer{ProviderName: domain, ServiceAddress: "posta-certificata@" + domain, Domain: domain, Cert: cert, Key: key}
}

// testEnvelope is a correct busta di trasporto signed by s for rcpts.
func testEnvelope(t *testing.T, s *compose.Sealer) []byte {
	now := time.Now()
	id := s.NewID(now)
	f := compose.Facts{Instant: now, Subject: "Prova", Sender: "mario@" + s.Domain, ID: id}
	for _, r := range rcpts {
		f.Recipients = append(f.Recipients, compose.Recipient{Address: r, Certified: true})
	}
	d := s.Postacert(pec.TipoPostaCertificata, pec.ErroreNessuno, f, "", "<c@client>")
	d.Dati.Ricevuta = &pec.RicevutaTipo{Tipo: pec.TipoSintetica}
	dati, _ := d.Marshal()
	to := strings.Join(rcpts, ", ")
	orig := "From: mario@" + s.Domain + "\r\nTo: " + to + "\r\nSubject: Prova\r\nMessage-ID: <" + id + ">\r\n\r\nciao\r\n"
	msg, err := s.Sign([]smime.Field{{Name: "From", Value: `"Per conto di: mario@` + s.Domain + `" <` + s.ServiceAddress + ">"},
		{Name: "To", Value: to}, {Name: "Subject", Value: "POSTA CERTIFICATA: Prova"},
		{Name: "Message-ID", Value: "<" + id + ">"}, {Name: "X-Riferimento-Message-ID", Value: "<c@client>"},
		{Name: "X-Trasporto", Value: "posta-certificata"}},
		compose.Mixed{Text: compose.TextTrasporto(f), Daticert: dati, Original: []byte(orig)})
	if err != nil {
		t.Fatal(err)
	}
	return msg
}
