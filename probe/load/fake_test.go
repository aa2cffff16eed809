package load

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/pecspec/pecspec/probe"
)

// fakeTarget is a small stand-in provider for the package's unit tests: an
// SMTP submission server (plaintext, AUTH PLAIN) that answers each message
// with the four messages of a delivered PEC message in an in-memory IMAP
// server (go-imap's imapmemserver): accettazione and avvenuta consegna to
// the sender, presa in carico to the service mailbox, the envelope to each
// recipient. Its receipts carry the headers and a daticert.xml the receiver
// reads; they are not signed (nothing here is graded). stallAt makes the
// whole server stop answering DATA for stall, once.
type fakeTarget struct {
	target  *probe.Target
	users   map[string]*imapmemserver.User
	stallAt int           // the DATA that starts the stall (1-based), 0 for none
	stall   time.Duration // how long every DATA waits then

	mu                   sync.RWMutex // held exclusively during the stall
	n                    int
	nmu                  sync.Mutex
	stallStart, stallEnd time.Time
}

func startFake(t *testing.T, stallAt int, stall time.Duration) *fakeTarget {
	t.Helper()
	f := &fakeTarget{users: map[string]*imapmemserver.User{}, stallAt: stallAt, stall: stall}
	mem := imapmemserver.New()
	for _, a := range []string{"alice@pec.a.test", "ricevute@pec.a.test", "bob@pec.b.test", "carol@pec.b.test"} {
		u := imapmemserver.NewUser(a, "pw")
		if err := u.Create("INBOX", nil); err != nil {
			t.Fatal(err)
		}
		mem.AddUser(u)
		f.users[a] = u
	}
	imapSrv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
		Logger:       log.New(io.Discard, "", 0),
	})
	il := listen(t)
	go func() { _ = imapSrv.Serve(il) }()
	smtpSrv := smtp.NewServer(fakeBackend{f})
	smtpSrv.AllowInsecureAuth = true
	smtpSrv.Domain = "pec.a.test"
	sl := listen(t)
	go func() { _ = smtpSrv.Serve(sl) }()
	t.Cleanup(func() { smtpSrv.Close(); imapSrv.Close() })
	ep := func(l net.Listener) probe.Endpoint {
		a := l.Addr().(*net.TCPAddr)
		return probe.Endpoint{Host: "127.0.0.1", Port: a.Port, TLS: probe.TLSNone}
	}
	f.target = &probe.Target{Name: "fake-a", Domains: []string{"pec.a.test"}, Submission: ep(sl), IMAP: ep(il),
		Accounts:        []probe.Account{{Address: "alice@pec.a.test", Password: "pw"}},
		ReceiptsMailbox: probe.Account{Address: "ricevute@pec.a.test", Password: "pw"},
		Counterpart: &probe.Target{Name: "fake-b", Domains: []string{"pec.b.test"}, IMAP: ep(il),
			Accounts: []probe.Account{{Address: "bob@pec.b.test", Password: "pw"}, {Address: "carol@pec.b.test", Password: "pw"}}}}
	return f
}

func listen(t *testing.T) net.Listener {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// stalled reports when the stall began and ended.
func (f *fakeTarget) stalled() (time.Time, time.Time) {
	f.nmu.Lock()
	defer f.nmu.Unlock()
	return f.stallStart, f.stallEnd
}

// data handles one message: the stall if it is due, then the receipts.
func (f *fakeTarget) data(from string, to []string, raw []byte) error {
	f.nmu.Lock()
	f.n++
	stallNow := f.n == f.stallAt
	f.nmu.Unlock()
	if stallNow {
		f.mu.Lock()
		start := time.Now()
		time.Sleep(f.stall) // the behaviour under test: a target that stops answering
		f.nmu.Lock()
		f.stallStart, f.stallEnd = start, time.Now()
		f.nmu.Unlock()
		f.mu.Unlock()
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	id, subject := m.Header.Get("Message-ID"), m.Header.Get("Subject")
	put := func(to, ricevuta, trasporto, subj string, daticert bool) {
		msg := fakeReceipt(id, ricevuta, trasporto, subj, daticert)
		_, _ = f.users[to].Append("INBOX", literal{bytes.NewReader(msg), int64(len(msg))}, &imap.AppendOptions{})
	}
	put(from, "accettazione", "", "ACCETTAZIONE: "+subject, true)
	for _, r := range to {
		put(r, "", "posta-certificata", "POSTA CERTIFICATA: "+subject, false)
	}
	put("ricevute@pec.a.test", "presa-in-carico", "", "PRESA IN CARICO: "+subject, true)
	for range to {
		put(from, "avvenuta-consegna", "", "CONSEGNA: "+subject, true)
	}
	return nil
}

// fakeReceipt is a receipt with the PEC headers and, when asked, a
// daticert.xml whose data/ora is now (RFC 6109 §4.4).
func fakeReceipt(ref, ricevuta, trasporto, subject string, daticert bool) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: posta-certificata@pec.a.test\r\nSubject: %s\r\n", subject)
	if ricevuta != "" {
		fmt.Fprintf(&b, "X-Ricevuta: %s\r\nX-Riferimento-Message-ID: %s\r\n", ricevuta, ref)
	}
	if trasporto != "" {
		fmt.Fprintf(&b, "X-Trasporto: %s\r\n", trasporto)
	}
	if !daticert {
		b.WriteString("Content-Type: text/plain\r\n\r\nbusta\r\n")
		return []byte(b.String())
	}
	now := time.Now()
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n" +
		"Content-Type: text/plain\r\n\r\nricevuta\r\n--b\r\n" +
		"Content-Type: application/xml; name=\"daticert.xml\"\r\nContent-Disposition: inline; filename=\"daticert.xml\"\r\n\r\n")
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?><postacert tipo="%s" errore="nessuno"><intestazione>`+
		`<mittente>alice@pec.a.test</mittente><destinatari tipo="certificato">bob@pec.b.test</destinatari>`+
		`<risposte>alice@pec.a.test</risposte></intestazione><dati><gestore-emittente>Fake</gestore-emittente>`+
		`<data zona="%s"><giorno>%s</giorno><ora>%s</ora></data><identificativo>x</identificativo></dati></postacert>`+"\r\n--b--\r\n",
		ricevuta, now.Format("-0700"), now.Format("02/01/2006"), now.Format("15:04:05"))
	return []byte(b.String())
}

type literal struct {
	io.Reader
	n int64
}

func (l literal) Size() int64 { return l.n }

type fakeBackend struct{ f *fakeTarget }

func (b fakeBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &fakeSession{f: b.f}, nil }

type fakeSession struct {
	f        *fakeTarget
	user     string
	from     string
	to       []string
	authDone bool
}

func (s *fakeSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *fakeSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if _, ok := s.f.users[user]; !ok || pass != "pw" {
			return errors.New("bad credentials")
		}
		s.user, s.authDone = user, true
		return nil
	}), nil
}

func (s *fakeSession) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authDone {
		return smtp.ErrAuthRequired
	}
	s.from, s.to = from, nil
	return nil
}

func (s *fakeSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *fakeSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	return s.f.data(s.from, s.to, raw)
}

func (s *fakeSession) Reset()        { s.from, s.to = "", nil }
func (s *fakeSession) Logout() error { return nil }
