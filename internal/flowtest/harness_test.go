package flowtest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/reference/lab"
	"github.com/pecspec/pecspec/reference/lab/labtest"
	"github.com/pecspec/pecspec/report"
)

// harness is one lab and what the tests need to reach and judge it.
type harness struct {
	t     testing.TB
	l     *lab.Lab
	pool  *x509.CertPool
	opts  report.Options
	dtd   string
	seen  map[string]bool // Message-IDs already judged by openssl and xmllint
	byID  map[string]*pec.Message
	kinds map[pec.Kind]int
	trasp map[string]int // X-Trasporto values seen
}

func newHarness(t testing.TB) *harness { return harnessOn(t, labtest.Up(t)) }

// harnessOn is the harness for a lab already up.
func harnessOn(t testing.TB, l *lab.Lab) *harness {
	pem, err := os.ReadFile(l.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	ix, err := report.LoadIndex(l.LDAPURL)
	if err != nil {
		t.Fatalf("index: %v", err)
	}
	dtd := filepath.Join(t.TempDir(), "daticert.dtd")
	if err := os.WriteFile(dtd, pec.DTD, 0o600); err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, l: l, pool: pool, opts: report.Options{Trust: pool, Index: ix}, dtd: dtd,
		seen: map[string]bool{}, byID: map[string]*pec.Message{}, kinds: map[pec.Kind]int{}, trasp: map[string]int{}}
}

func acct(a lab.Account) probe.Account {
	return probe.Account{Address: a.Address, Password: a.Password}
}

// submit sends raw as from through in's submission port (implicit TLS, AUTH).
func (h *harness) submit(t testing.TB, in *lab.Instance, from lab.Account, rcpt []string, raw []byte) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ep := probe.Endpoint{Host: "127.0.0.1", Port: in.Ports.Submission, TLS: probe.TLSImplicit}
	return probe.Submit(ctx, ep, h.pool, acct(from), from.Address, rcpt, raw)
}

// mx delivers raw to in's MX over STARTTLS, as another provider would.
func (h *harness) mx(t testing.TB, in *lab.Instance, from string, rcpt []string, raw []byte) error {
	t.Helper()
	c, err := smtp.DialStartTLS(in.MXAddr(), &tls.Config{RootCAs: h.pool, ServerName: in.MXHost})
	if err != nil {
		return err
	}
	defer c.Close()
	return c.SendMail(from, rcpt, bytes.NewReader(raw))
}

// open logs in to a's INBOX on in over IMAPS.
func (h *harness) open(t testing.TB, ctx context.Context, in *lab.Instance, a lab.Account) *probe.Mailbox {
	t.Helper()
	mb, err := probe.OpenMailbox(ctx, probe.Endpoint{Host: "127.0.0.1", Port: in.Ports.IMAP, TLS: probe.TLSImplicit},
		h.pool, acct(a))
	if err != nil {
		t.Fatalf("imap %s: %v", a.Address, err)
	}
	return mb
}

// wait reads a's mailbox on in until match holds for a message not returned
// before, and returns it.
func (h *harness) wait(t testing.TB, in *lab.Instance, a lab.Account, what string, match func(*pec.Message) bool) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	mb := h.open(t, ctx, in, a)
	defer mb.Close()
	f, err := mb.WaitFor(ctx, func(raw []byte) bool { return match(pec.Parse(raw)) })
	if err != nil {
		t.Fatalf("%s: waiting for %s: %v", a.Address, what, err)
	}
	return f.Raw
}

// all returns every message in a's mailbox that mentions msgid (with
// brackets): the receipts and notices about it, or an anomaly carrying it.
func (h *harness) all(t testing.TB, in *lab.Instance, a lab.Account, msgid string) [][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	mb := h.open(t, ctx, in, a)
	defer mb.Close()
	fs, err := mb.Fetch(ctx)
	if err != nil {
		t.Fatalf("imap %s: %v", a.Address, err)
	}
	var out [][]byte
	for _, f := range fs {
		if bytes.Contains(f.Raw, []byte(msgid)) {
			out = append(out, f.Raw)
		}
	}
	return out
}

// refersTo matches the PEC message of kind k about the client's msgid.
func refersTo(k pec.Kind, msgid string) func(*pec.Message) bool {
	return func(m *pec.Message) bool {
		return m.Kind() == k && strings.TrimSpace(m.Header(pec.HeaderRiferimentoMsgID)) == msgid
	}
}

// judge grades every message: no MUST failure, openssl smime -verify accepts
// the signature, xmllint --dtdvalid accepts daticert.xml when there is one.
func (h *harness) judge(t testing.TB, raws ...[]byte) {
	t.Helper()
	for _, raw := range raws {
		m := pec.Parse(raw)
		g := report.Grade(raw, h.opts)
		for _, v := range g.MustFailures() {
			t.Errorf("%s %s: %s %s: %s", g.Kind, m.Header("Subject"), v.Rule, v.Status, v.Detail)
		}
		id := m.Header("Message-ID")
		if h.seen[id] {
			continue
		}
		h.seen[id] = true
		h.byID[strings.TrimSpace(id)] = m
		h.kinds[m.Kind()]++
		if x := strings.TrimSpace(m.Header(pec.HeaderTrasporto)); x != "" {
			h.trasp[x]++
		}
		h.external(t, m, raw)
	}
}

// external runs openssl and xmllint on one message.
func (h *harness) external(t testing.TB, m *pec.Message, raw []byte) {
	t.Helper()
	dir := t.TempDir()
	eml := filepath.Join(dir, "m.eml")
	if err := os.WriteFile(eml, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("openssl", "smime", "-verify", "-CAfile", h.l.CAFile(), "-purpose", "any",
		"-in", eml, "-out", os.DevNull).CombinedOutput()
	if err != nil {
		t.Errorf("%s: openssl smime -verify: %v\n%s", m.Kind(), err, out)
	}
	if m.Daticert == nil {
		return
	}
	xml, err := m.Daticert.Decoded()
	if err != nil {
		t.Errorf("%s: daticert.xml: %v", m.Kind(), err)
		return
	}
	x := filepath.Join(dir, "daticert.xml")
	if err := os.WriteFile(x, xml, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("xmllint", "--noout", "--dtdvalid", h.dtd, x).CombinedOutput(); err != nil {
		t.Errorf("%s: xmllint --dtdvalid: %v\n%s", m.Kind(), err, out)
	}
}

// tx grades a transaction's captured messages with the multi rules.
func (h *harness) tx(t testing.TB, sub report.Submission, caps []report.Captured) {
	t.Helper()
	for _, v := range report.GradeTransaction(sub, caps, h.opts) {
		if v.Level == report.Must && v.Status == report.Fail {
			t.Errorf("transaction %s: %s: %s", sub.MessageID, v.Rule, v.Detail)
		}
	}
}

func captured(box string, service bool, raws ...[]byte) []report.Captured {
	var out []report.Captured
	for _, r := range raws {
		out = append(out, report.Captured{Mailbox: box, Service: service, Raw: r})
	}
	return out
}

// admin calls an instance's admin API.
func (h *harness) admin(t testing.TB, in *lab.Instance, method, path, body string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://127.0.0.1:"+strconv.Itoa(in.Ports.Admin)+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+in.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("admin %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("admin %s %s: %s", method, path, resp.Status)
	}
}

// advance moves every instance's clock by d, the way time passes: each
// instance fires its timers at their instant.
func (h *harness) advance(t testing.TB, d time.Duration) {
	t.Helper()
	for _, in := range h.l.Providers {
		h.admin(t, in, http.MethodPost, "/clock/advance?by="+d.String(), "")
	}
}

func original(from string, to, cc []string, subject string, extra ...string) (string, []byte) {
	id, raw := probe.NewOriginal(from, to, cc, subject, "Buongiorno,\r\nprova del flusso.\r\n")
	if len(extra) > 0 {
		raw = append([]byte(strings.Join(extra, "\r\n")+"\r\n"), raw...)
	}
	return id, raw
}

func (h *harness) String() string { return fmt.Sprintf("kinds %v, X-Trasporto %v", h.kinds, h.trasp) }
