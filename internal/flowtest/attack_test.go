package flowtest

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/pecspec/pecspec/fixtures"
	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/report"
)

// TestUnderAttack replays on one lab the attacks of issue 15 that the
// reference's own parts must hold against: viruses hidden by structure,
// hostile subjects, mail to outside recipients that cannot be delivered, the
// signing token taken away and put back, and the index frozen (the last two
// in dependencies.go), connection floods and password guessing (limits_test.go).
// Every message the reference emits is graded.
func TestUnderAttack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the lab")
	}
	h := newHarness(t)
	for _, f := range []struct {
		name string
		run  func(*testing.T, *harness)
	}{
		{"virus-evasion", virusEvasion},
		{"hostile-subjects", hostileSubjects},
		{"undeliverable-esterno", undeliverableEsterno},
		{"token-away", tokenAway},
		{"frozen-slapd", frozenSlapd},
		{"connection-limits", connectionLimits}, // limits_test.go
		{"failed-auth", failedAuth},
	} {
		t.Run(f.name, func(t *testing.T) { f.run(t, h) })
	}
}

// evasionSet is the issue 15 set: EICAR under 20, 100 and 1,000 nested
// multiparts, 30 nested message/rfc822, nested zips, split encodings and
// message/partial fragments.
func evasionSet(head string) map[string][]byte {
	set := map[string][]byte{}
	for _, d := range []int{20, 100, 1000} {
		set[fmt.Sprintf("multipart-%d", d)] = fixtures.NestedMultipart(head, d)
	}
	set["rfc822-30"] = fixtures.NestedRFC822(head, 30)
	for _, d := range []int{20, 70} {
		set[fmt.Sprintf("zip-%d", d)] = fixtures.NestedZip(head, d)
	}
	for name, msg := range fixtures.SplitEncodings(head) {
		set[strings.ReplaceAll(name, " ", "-")] = msg
	}
	for i, msg := range fixtures.PartialFragments(head) {
		set[fmt.Sprintf("partial-%d", i+1)] = msg
	}
	return set
}

// virusEvasion: each message of the set submitted to alpha gets an avviso di
// non accettazione per virus and no envelope; sent to beta's MX as ordinary
// mail each is refused with 550 and kept in the virus store.
func virusEvasion(t *testing.T, h *harness) {
	a, b, alice, _, _, bBob := names(h.l)
	var ids []string
	for name, msg := range evasionSet(fixtures.EvasionHeader(alice.Address, bBob.Address, "Evasione")) {
		id := "<evasione." + name + "." + strconv.FormatInt(time.Now().UnixNano(), 36) + "@client.test>"
		raw := append([]byte("Message-ID: "+id+"\r\n"), msg...)
		if err := h.submit(t, a, alice, []string{bBob.Address}, raw); err != nil {
			t.Errorf("%s: submission refused at SMTP level: %v", name, err)
			continue
		}
		raw = h.wait(t, a, alice, name+" non-accettazione", refersTo(pec.KindNonAccettazione, id))
		nac := pec.Parse(raw)
		if nac.Postacert.Errore != pec.ErroreVirus {
			t.Errorf("%s: non-accettazione with errore %q, want virus", name, nac.Postacert.Errore)
		}
		h.judge(t, raw)
		t.Logf("%-22s %s", name, pec.Deref(nac.Postacert.Dati.ErroreEsteso))
		ids = append(ids, id)
	}
	x := h.l.External.Accounts[0].Address
	for name, msg := range evasionSet(fixtures.EvasionHeader(x, bBob.Address, "Ordinaria")) {
		err := plainMX(mxAddr(b), x, []string{bBob.Address}, msg)
		var se *smtp.SMTPError
		if !errors.As(err, &se) || se.Code != 550 {
			t.Errorf("%s as ordinary mail to beta: err = %v, want a 550 refusal", name, err)
		}
	}
	for _, id := range ids {
		if got := h.all(t, b, bBob, id); len(got) != 0 {
			t.Errorf("%s reached %s", id, bBob.Address)
		}
	}
}

// hostileSubjects are Subject fields a hostile client sends: raw NUL and
// invalid UTF-8 bytes, encoded control characters, an unknown charset, and
// subjects of thousands of characters (folded, as a header line must be).
// Every message the reference emits for them is graded: DAT-20 and GEN-14
// (oggetto and Subject agree) and every other MUST rule pass. A raw NUL is
// refused at SMTP level by the submission server and by the MX (554 5.6.0):
// RFC 5322 §3.5 allows none, and no mailbox server could hand the envelope or
// a receipt carrying it intact to its reader (Dovecot turns it into 0x80
// over IMAP), so their signatures could never be verified.
//
// The grader reads the original's subject as a provider can carry it (its
// report/subject.go): characters XML 1.0 cannot hold and invalid bytes are
// replacement characters, line breaks spaces.
func hostileSubjects(t *testing.T, h *harness) {
	a, b, alice, _, _, bBob := names(h.l)
	refusedNUL(t, h)
	for name, field := range map[string]string{
		"invalid-utf8":    "caff\xe8 \xff\xfe fine",
		"encoded-ctl":     "=?utf-8?q?a=00b=0D=0ABcc:_x@example.org?=",
		"long-spaces":     foldWords(strings.Repeat("parola ", 600)),
		"long-no-spaces":  encodedWords(strings.Repeat("x", 3000)),
		"long-non-ascii":  strings.ReplaceAll(mime.QEncoding.Encode("utf-8", strings.Repeat("àèìòù€ ", 300)), "?= =?", "?=\r\n =?"),
		"unknown-charset": "=?x-klingon?q?qapla=FF?=",
	} {
		id := "<oggetto." + name + "." + strconv.FormatInt(time.Now().UnixNano(), 36) + "@client.test>"
		raw := []byte("From: " + alice.Address + "\r\nTo: " + bBob.Address + "\r\nSubject: " + field + "\r\nMessage-ID: " + id +
			"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nOggetto ostile.\r\n")
		if err := h.submit(t, a, alice, []string{bBob.Address}, raw); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		acc := h.wait(t, a, alice, name+" accettazione", refersTo(pec.KindAccettazione, id))
		env := h.wait(t, b, bBob, name+" envelope", refersTo(pec.KindTrasporto, id))
		pic := h.wait(t, a, a.Receipts, name+" presa in carico", refersTo(pec.KindPresaInCarico, id))
		cons := h.wait(t, a, alice, name+" consegna", refersTo(pec.KindAvvenutaConsegna, id))
		h.judge(t, acc, env, pic, cons)
		h.tx(t, report.Submission{Sender: alice.Address, To: []string{bBob.Address}, MessageID: id},
			append(captured(alice.Address, false, acc, cons), captured(a.Receipts.Address, true, pic)...))
		// The same subject in ordinary mail: the busta di anomalia.
		x := h.l.External.Accounts[0].Address
		plain := bytes.Replace(raw, []byte("From: "+alice.Address), []byte("From: "+x), 1)
		if err := plainMX(mxAddr(b), x, []string{bBob.Address}, plain); err != nil {
			t.Errorf("%s as ordinary mail: %v", name, err)
			continue
		}
		h.judge(t, h.wait(t, b, bBob, name+" anomalia", func(m *pec.Message) bool {
			return m.Kind() == pec.KindAnomalia && m.Original != nil && bytes.Contains(m.Original.Body, []byte(id))
		}))
	}
}

// refusedNUL: a message with a NUL byte in its Subject is refused with 554
// 5.6.0 at submission and at the MX, and nothing about it is delivered.
func refusedNUL(t *testing.T, h *harness) {
	a, b, alice, _, _, bBob := names(h.l)
	id := "<oggetto.nul." + strconv.FormatInt(time.Now().UnixNano(), 36) + "@client.test>"
	raw := []byte("From: " + alice.Address + "\r\nTo: " + bBob.Address + "\r\nSubject: prima\x00dopo\r\nMessage-ID: " + id +
		"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nOggetto ostile.\r\n")
	var se *smtp.SMTPError
	if err := h.submit(t, a, alice, []string{bBob.Address}, raw); !errors.As(err, &se) || se.Code != 554 {
		t.Errorf("NUL at submission: %v, want 554", err)
	}
	x := h.l.External.Accounts[0].Address
	plain := bytes.Replace(raw, []byte("From: "+alice.Address), []byte("From: "+x), 1)
	if err := plainMX(mxAddr(b), x, []string{bBob.Address}, plain); !errors.As(err, &se) || se.Code != 554 {
		t.Errorf("NUL at the MX: %v, want 554", err)
	}
	if got := h.all(t, a, alice, id); len(got) != 0 {
		t.Errorf("%d messages about the refused submission reached %s", len(got), alice.Address)
	}
	if got := h.all(t, b, bBob, id); len(got) != 0 {
		t.Errorf("%d messages about the refused message reached %s", len(got), bBob.Address)
	}
}

// foldWords folds a long text of words into header lines of about 70 octets.
func foldWords(s string) string {
	var b strings.Builder
	line := 0
	for i, w := range strings.Fields(s) {
		if i > 0 && line+len(w) > 70 {
			b.WriteString("\r\n")
			line = 0
		}
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(w)
		line += len(w) + 1
	}
	return b.String()
}

// encodedWords writes ASCII s as folded RFC 2047 words, so that a subject
// without spaces can be folded at all.
func encodedWords(s string) string {
	var words []string
	for len(s) > 0 {
		n := min(50, len(s))
		words = append(words, "=?us-ascii?q?"+s[:n]+"?=")
		s = s[n:]
	}
	return strings.Join(words, "\r\n ")
}

// undeliverableEsterno: an envelope to an outside address whose server
// refuses it (550 5.1.1) and one to a domain with no route each give the
// sender one avviso di mancata consegna (no-dest, no-dominio) from alpha,
// never silence (issue 15; docs/reference.md).
func undeliverableEsterno(t *testing.T, h *harness) {
	a, _, alice, _, _, _ := names(h.l)
	for _, c := range []struct {
		rcpt string
		want pec.Errore
	}{
		{"nessuno@" + h.l.External.Domain, pec.ErroreNoDest},
		{"chiunque@dominio-sconosciuto.test", pec.ErroreNoDominio},
	} {
		id, raw := original(alice.Address, []string{c.rcpt}, nil, "Esterno irraggiungibile "+string(c.want))
		if err := h.submit(t, a, alice, []string{c.rcpt}, raw); err != nil {
			t.Fatal(err)
		}
		acc := h.wait(t, a, alice, "accettazione", refersTo(pec.KindAccettazione, id))
		errc := h.wait(t, a, alice, "mancata consegna", refersTo(pec.KindErroreConsegna, id))
		m := pec.Parse(errc)
		if m.Postacert.Errore != c.want || !strings.EqualFold(pec.Deref(m.Postacert.Dati.Consegna), c.rcpt) {
			t.Errorf("%s: errore %q for %q (%s), want %s", c.rcpt, m.Postacert.Errore,
				pec.Deref(m.Postacert.Dati.Consegna), pec.Deref(m.Postacert.Dati.ErroreEsteso), c.want)
		}
		h.judge(t, acc, errc)
		h.tx(t, report.Submission{Sender: alice.Address, To: []string{c.rcpt}, MessageID: id},
			captured(alice.Address, false, acc, errc))
		if n := len(h.all(t, a, alice, id)); n != 2 {
			t.Errorf("%s: %d messages about the submission, want the accettazione and one mancata consegna", c.rcpt, n)
		}
		t.Logf("%s: %s", c.rcpt, pec.Deref(m.Postacert.Dati.ErroreEsteso))
	}
}

// health reads an instance's GET /health: its HTTP status and body.
func (h *harness) health(t *testing.T, port int) (int, string) {
	t.Helper()
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/health")
	if err != nil {
		t.Fatalf("/health: %v", err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}
