package lab_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/pec/hsm"
	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/reference/lab"
	"github.com/pecspec/pecspec/reference/lab/labtest"
)

// One lab serves every test of this file: starting it is the expensive part.
func TestLab(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real lab")
	}
	l := labtest.Up(t)
	t.Run("IndexFindsBeta", func(t *testing.T) { indexFindsBeta(t, l) })
	t.Run("SignedLDIF", func(t *testing.T) { signedLDIF(t, l) })
	t.Run("KeysAreNotExtractable", func(t *testing.T) { keysAreNotExtractable(t, l) })
	t.Run("SubmissionRefusals", func(t *testing.T) { submissionRefusals(t, l) })
	t.Run("CertifiedMessageAndIMAPS", func(t *testing.T) { certifiedMessage(t, l) })
	t.Run("TamperedEnvelopeIsAnomaly", func(t *testing.T) { tamperedEnvelope(t, l) })
	t.Run("Printout", func(t *testing.T) { printout(t, l) })
	t.Run("DaemonsRestart", func(t *testing.T) { daemonsRestart(t, l) })
}

func indexFindsBeta(t *testing.T, l *lab.Lab) {
	out, err := exec.Command("ldapsearch", "-x", "-LLL", "-H", l.LDAPURL, "-b", "o=postacert",
		"(managedDomains=pec.beta.test)", "providerName", "mailReceipt").CombinedOutput()
	if err != nil {
		t.Fatalf("ldapsearch: %v\n%s", err, out)
	}
	for _, want := range []string{"providerName: Reference Beta", "mailReceipt: ricevute@pec.beta.test"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("ldapsearch output lacks %q:\n%s", want, out)
		}
	}
}

// signedLDIF: every instance's published .p7m (IDX-09) verifies with openssl
// against the lab CA, and carries that provider's record.
func signedLDIF(t *testing.T, l *lab.Lab) {
	for _, in := range l.Providers {
		out, err := exec.Command("openssl", "cms", "-verify", "-inform", "DER", "-in", l.LDIFFile(in.Name),
			"-CAfile", l.CAFile(), "-purpose", "any").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "managedDomains: "+in.Domain) ||
			!strings.Contains(string(out), "providerName: "+in.ProviderName) {
			t.Errorf("%s: openssl cms -verify: %v\n%s", in.Name, err, out)
		}
	}
}

// keysAreNotExtractable opens alpha's token (while pecref holds it) and reads
// the private key's attributes: generated inside, never extractable.
func keysAreNotExtractable(t *testing.T, l *lab.Lab) {
	for _, p := range l.Providers {
		tok, err := hsm.Open(hsm.Config{SoftHSMConf: p.SoftHSMConf, TokenLabel: p.TokenLabel, PIN: p.PIN, Sessions: 1})
		if err != nil {
			t.Fatalf("%s: open token: %v", p.Name, err)
		}
		attrs, err := tok.KeyAttributes(lab.KeyLabel)
		tok.Close()
		if err != nil {
			t.Fatalf("%s: key attributes: %v", p.Name, err)
		}
		if attrs.Extractable || !attrs.Sensitive || !attrs.Local {
			t.Errorf("%s: private key attributes %+v, want extractable=false sensitive=true local=true", p.Name, attrs)
		}
	}
}

func alpha(t *testing.T, l *lab.Lab) (*lab.Instance, *x509.CertPool) {
	pem, err := os.ReadFile(l.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return l.Provider("alpha"), pool
}

func submissionRefusals(t *testing.T, l *lab.Lab) {
	a, pool := alpha(t, l)
	addr := "127.0.0.1:" + strconv.Itoa(a.Ports.Submission)
	c, err := smtp.DialTLS(addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Auth(sasl.NewPlainClient("", a.Accounts[0].Address, "wrong-password"))
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 535 {
		t.Errorf("wrong password: err = %v, want SMTP 535", err)
	}
	if err := c.Mail(a.Accounts[0].Address, nil); !errors.As(err, &se) || se.Code != 530 {
		t.Errorf("MAIL without AUTH: err = %v, want SMTP 530", err)
	}
	// Plaintext SMTP to the implicit-TLS port never gets a greeting.
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	plain := smtp.NewClient(conn)
	plain.CommandTimeout = 3 * time.Second
	if err := plain.Hello("client.test"); err == nil {
		t.Error("plaintext submission got an SMTP dialogue; want refusal")
	}
}

func submit(t *testing.T, l *lab.Lab, from probe.Account, to string, subject string) string {
	a, pool := alpha(t, l)
	id, raw := probe.NewOriginal(from.Address, []string{to}, nil, subject, "Buongiorno.\n")
	ep := probe.Endpoint{Host: "127.0.0.1", Port: a.Ports.Submission, TLS: probe.TLSImplicit}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := probe.Submit(ctx, ep, pool, from, from.Address, []string{to}, raw); err != nil {
		t.Fatalf("submit: %v", err)
	}
	return id
}

func waitKind(t *testing.T, l *lab.Lab, in *lab.Instance, acct lab.Account, msgid string, kind pec.Kind) []byte {
	t.Helper()
	_, pool := alpha(t, l)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	mb, err := probe.OpenMailbox(ctx, probe.Endpoint{Host: "127.0.0.1", Port: in.Ports.IMAP, TLS: probe.TLSImplicit},
		pool, probe.Account{Address: acct.Address, Password: acct.Password})
	if err != nil {
		t.Fatalf("imap %s: %v", acct.Address, err)
	}
	defer mb.Close()
	f, err := mb.WaitFor(ctx, func(raw []byte) bool {
		m := pec.Parse(raw)
		return m.Kind() == kind && (msgid == "" || m.Header(pec.HeaderRiferimentoMsgID) == msgid)
	})
	if err != nil {
		t.Fatalf("%s: waiting for %s: %v", acct.Address, kind, err)
	}
	return f.Raw
}

func acct(a lab.Account) probe.Account {
	return probe.Account{Address: a.Address, Password: a.Password}
}

// certifiedMessage runs the happy path and lists alice's receipts with curl
// over IMAPS, as a user would.
func certifiedMessage(t *testing.T, l *lab.Lab) {
	a, b := l.Provider("alpha"), l.Provider("beta")
	id := submit(t, l, acct(a.Accounts[0]), b.Accounts[1].Address, "Prova lab")
	waitKind(t, l, a, a.Accounts[0], id, pec.KindAccettazione)
	waitKind(t, l, b, b.Accounts[1], id, pec.KindTrasporto)
	waitKind(t, l, a, a.Receipts, id, pec.KindPresaInCarico)
	waitKind(t, l, a, a.Accounts[0], id, pec.KindAvvenutaConsegna)
	out, err := exec.Command("curl", "-sS", "--cacert", l.CAFile(), "--max-time", "10",
		"imaps://127.0.0.1:"+strconv.Itoa(a.Ports.IMAP)+"/INBOX", "-X", "SEARCH ALL",
		"-u", a.Accounts[0].Address+":"+a.Accounts[0].Password).CombinedOutput()
	if err != nil {
		t.Fatalf("curl imaps: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "SEARCH 1 2") {
		t.Errorf("curl SEARCH ALL on alice's INBOX = %q, want at least messages 1 and 2", out)
	}
}

// tamperedEnvelope takes a real envelope alpha signed, edits one byte of the
// signed content and sends it to beta's MX: beta must deliver it as a busta di
// anomalia, never as a busta di trasporto (RFC 6109 §2.2.2), and send no presa
// in carico.
func tamperedEnvelope(t *testing.T, l *lab.Lab) {
	a, b := l.Provider("alpha"), l.Provider("beta")
	id := submit(t, l, acct(a.Accounts[0]), b.Accounts[0].Address, "Originale intatto")
	env := waitKind(t, l, b, b.Accounts[0], id, pec.KindTrasporto)
	tampered := bytes.Replace(env, []byte("Originale intatto"), []byte("Originale alterat"), 1)
	if bytes.Equal(tampered, env) {
		t.Fatal("could not tamper the envelope")
	}
	newID := "<tampered-" + id[1:]
	tampered = bytes.ReplaceAll(tampered, []byte(id), []byte(newID))
	_, pool := alpha(t, l)
	c, err := smtp.DialStartTLS(b.MXAddr(), &tls.Config{RootCAs: pool, ServerName: b.MXHost})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SendMail(a.Accounts[0].Address, []string{b.Accounts[0].Address}, bytes.NewReader(tampered)); err != nil {
		t.Fatalf("send tampered envelope: %v", err)
	}
	raw := waitKind(t, l, b, b.Accounts[0], "", pec.KindAnomalia)
	if !bytes.Contains(raw, []byte("Originale alterat")) {
		t.Errorf("the anomaly does not carry the tampered message")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	mb, err := probe.OpenMailbox(ctx, probe.Endpoint{Host: "127.0.0.1", Port: b.Ports.IMAP, TLS: probe.TLSImplicit},
		pool, acct(b.Accounts[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	all, err := mb.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range all {
		if m := pec.Parse(f.Raw); m.Kind() == pec.KindTrasporto && m.Header(pec.HeaderRiferimentoMsgID) == newID {
			t.Errorf("the tampered envelope was delivered as a busta di trasporto (UID %d)", f.UID)
		}
	}
}
