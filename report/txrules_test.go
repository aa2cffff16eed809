package report

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Transaction rule cases: a correct capture of one submission, and the same
// capture spoilt in one way.

type txCase struct {
	rule      string
	good, bad func(w *world) []*fx
}

const phrase24 = "non e' stato consegnato entro 24 ore dalla spedizione. La transazione e' conclusa con esito negativo."

// at rebuilds the times of a fixture for instant t.
func (w *world) at(k string, t time.Time) *fx {
	f := w.msg(k)
	f.set("Date", dateHeader(t))
	f.set("Message-ID", fmt.Sprintf("<%s-%d@%s>", k, t.Unix(), f.signer.domain))
	if f.dc != nil {
		f.dc.setTime(t)
	}
	f.text = w.text(k, t)
	return f
}

func (w *world) notice24(t time.Time) *fx {
	f := w.at(PR, t)
	f.text = strings.Replace(f.text, phrase[PR], phrase24, 1)
	return f
}

// mailbox says where each kind is captured: the sender's mailbox, the
// recipient's, or the sender provider's service mailbox.
func (w *world) place(f *fx) *fx {
	switch f.kind {
	case T, AN:
		f.mailbox = w.rcpt
	case P, V:
		f.mailbox, f.service = w.alpha.service(), true
	default:
		f.mailbox = w.sender
	}
	return f
}

func (w *world) tx(t *testing.T, fs []*fx) []Verdict {
	var caps []Captured
	for _, f := range fs {
		if f.mailbox == "" {
			w.place(f)
		}
		caps = append(caps, Captured{Mailbox: f.mailbox, Service: f.service, Raw: f.bytes(t)})
	}
	sub := Submission{Sender: w.sender, To: []string{w.rcpt}, MessageID: fxClientID}
	for _, f := range fs {
		if f.kind == T && f.get("Cc") != "" {
			sub.To, sub.Cc = []string{f.get("To")}, []string{f.get("Cc")}
		}
	}
	return GradeTransaction(sub, caps, w.opts())
}

func (w *world) std() []*fx {
	return []*fx{w.msg(A), w.msg(T), w.msg(P), w.msg(C)}
}

func (w *world) virusTx() []*fx {
	e := w.msg(E)
	virusERR(w, e)
	return []*fx{w.msg(A), w.msg(V), e}
}

func (w *world) timeoutTx() []*fx {
	return []*fx{w.msg(A), w.msg(T), w.at(PR, w.t0.Add(12*time.Hour)), w.notice24(w.t0.Add(24 * time.Hour))}
}

// withAttachment is an original with a named attachment and an embedded
// message, and breve is the receipt's copy of it with both hashed (§3.3.2.2).
func (w *world) withAttachment() []byte {
	return []byte(lines("From: "+w.sender, "To: "+w.rcpt, "Subject: "+fxSubject, "Message-ID: <"+fxPECID+">",
		"X-Riferimento-Message-ID: "+fxClientID, "MIME-Version: 1.0", `Content-Type: multipart/mixed; boundary="o"`, "",
		"--o", "Content-Type: text/plain", "", "Ciao", "--o",
		`Content-Type: application/pdf; name="a.pdf"`, "Content-Transfer-Encoding: base64", `Content-Disposition: attachment; filename="a.pdf"`, "",
		"JVBERi0xLjQK", "--o", "Content-Type: message/rfc822", "", "Subject: inner", "", "inner body", "--o--"))
}

func (w *world) breveOf(pdfHash, msgHash string) []byte {
	return []byte(lines("From: "+w.sender, "To: "+w.rcpt, "Subject: "+fxSubject, "Message-ID: <"+fxPECID+">",
		"X-Riferimento-Message-ID: "+fxClientID, "MIME-Version: 1.0", `Content-Type: multipart/mixed; boundary="o"`, "",
		"--o", "Content-Type: text/plain", "", "Ciao", "--o",
		`Content-Type: text/plain; name="a.pdf.hash"`, `Content-Disposition: attachment; filename="a.pdf.hash"`, "", pdfHash, "--o",
		`Content-Type: text/plain; name="postacert.eml.hash"`, `Content-Disposition: attachment; filename="message.eml.hash"`, "", msgHash, "--o--"))
}

func (w *world) breveTx(pdfHash string, shapeExtra bool) []*fx {
	env := w.msg(T)
	env.orig = w.withAttachment()
	env.set("X-TipoRicevuta", "breve")
	env.dc.ricevuta = str("breve")
	con := w.msg(C)
	con.dc.ricevuta = str("breve")
	con.orig = w.breveOf(pdfHash, sha1hex("Subject: inner\r\n\r\ninner body"))
	if shapeExtra {
		con.orig = []byte(strings.Replace(string(con.orig), "--o--", "--o\r\nContent-Type: text/plain\r\n\r\nextra\r\n--o--", 1))
	}
	return []*fx{w.msg(A), env, w.msg(P), con}
}

func drop(fs []*fx, k string) []*fx {
	var out []*fx
	for _, f := range fs {
		if f.kind != k {
			out = append(out, f)
		}
	}
	return out
}

var txCases = []txCase{
	{rule: "ACC-07", good: (*world).std, bad: func(w *world) []*fx {
		fs := w.std()
		fs[0].dc.id = "altro@pec.alpha.test"
		fs[0].text = strings.Replace(fs[0].text, fxPECID, "altro@pec.alpha.test", 1)
		return fs
	}},
	{rule: "ACC-08", good: (*world).std, bad: func(w *world) []*fx {
		fs := w.std()
		fs[0] = w.at(A, w.t0.Add(time.Second))
		return fs
	}},
	{rule: "ACC-09", good: (*world).std, bad: func(w *world) []*fx { return append(w.std(), w.at(A, w.t0.Add(time.Second))) }},
	{rule: "ACC-10", good: func(w *world) []*fx { return []*fx{w.msg(NA_)} }, bad: func(w *world) []*fx { return []*fx{w.msg(NA_), w.msg(A)} }},
	{rule: "NAC-05", good: func(w *world) []*fx { return []*fx{w.msg(NA_)} }, bad: func(w *world) []*fx { return []*fx{w.msg(NA_), w.msg(T)} }},
	{rule: "TRN-07", good: (*world).std, bad: func(w *world) []*fx {
		fs := w.std()
		fs[2].set("Message-ID", fs[0].get("Message-ID"))
		return fs
	}},
	{rule: "PIC-03", good: (*world).std, bad: func(w *world) []*fx {
		fs := w.std()
		fs[2].mailbox = w.rcpt
		return fs
	}},
	{rule: "PIC-05", good: (*world).std, bad: func(w *world) []*fx {
		fs := w.std()
		fs[2].dc.ricezione = []string{"carol@pec.beta.test"}
		return fs
	}},
	{rule: "PIC-06", good: (*world).std, bad: func(w *world) []*fx { return []*fx{w.msg(AN), w.msg(P)} }},
	{rule: "PIC-07", good: (*world).std, bad: func(w *world) []*fx {
		fs := w.std()
		fs[2].signer = w.alpha
		fs[2].set("From", w.alpha.service())
		return fs
	}},
	{rule: "CON-02", good: (*world).std, bad: func(w *world) []*fx { return append(w.std(), w.at(C, w.t0.Add(time.Second))) }},
	{rule: "CON-05", good: func(w *world) []*fx {
		fs := w.std()
		fs[1].set("To", "carol@pec.beta.test").set("Cc", w.rcpt)
		fs[3].dc.ricevuta, fs[3].orig = str("sintetica"), nil
		return fs
	}, bad: func(w *world) []*fx {
		fs := w.std()
		fs[1].set("To", "carol@pec.beta.test").set("Cc", w.rcpt)
		return fs
	}},
	{rule: "CON-04", good: (*world).std, bad: func(w *world) []*fx {
		fs := w.std()
		fs[3].orig = nil
		return fs
	}},
	{rule: "CON-07", good: func(w *world) []*fx {
		fs := w.std()
		fs[1].set("Cc", w.rcpt)
		return fs
	}, bad: func(w *world) []*fx {
		fs := w.std()
		fs[1].set("Cc", w.rcpt)
		fs[3].dc.ricevuta, fs[3].orig = str("sintetica"), nil
		return fs
	}},
	{rule: "CON-08", good: (*world).std, bad: func(w *world) []*fx {
		fs := w.std()
		fs[3].dc.consegna = str("carol@pec.beta.test")
		return fs
	}},
	{rule: "CON-09", good: (*world).std, bad: func(w *world) []*fx {
		fs := w.std()
		fs[3] = w.at(C, w.t0.Add(-time.Minute))
		return fs
	}},
	{rule: "ERR-04", good: func(w *world) []*fx { return []*fx{w.msg(A), w.msg(E)} }, bad: func(w *world) []*fx { return []*fx{w.msg(AN), w.msg(E)} }},
	{rule: "ANO-07", good: func(w *world) []*fx { return []*fx{w.msg(AN)} }, bad: func(w *world) []*fx {
		a := w.msg(AN)
		a.orig = w.msg(T).bytes(testingTB{})
		return []*fx{a}
	}},
	{rule: "ANO-08", good: func(w *world) []*fx { return []*fx{w.msg(AN)} }, bad: func(w *world) []*fx { return []*fx{w.msg(AN), w.msg(C)} }},
	{rule: "VIR-03", good: (*world).virusTx, bad: func(w *world) []*fx { return append(w.virusTx(), w.at(V, w.t0.Add(time.Second))) }},
	{rule: "VIR-05", good: (*world).virusTx, bad: func(w *world) []*fx { return append(w.virusTx(), w.msg(T)) }},
	{rule: "VIR-07", good: (*world).virusTx, bad: func(w *world) []*fx { return drop(w.virusTx(), E) }},
	{rule: "TIM-02", good: (*world).timeoutTx, bad: func(w *world) []*fx { return append(w.timeoutTx(), w.at(P, w.t0.Add(time.Hour))) }},
	{rule: "TIM-03", good: (*world).timeoutTx, bad: func(w *world) []*fx {
		fs := w.timeoutTx()
		fs[2] = w.at(PR, w.t0.Add(11*time.Hour))
		return fs
	}},
	{rule: "TIM-04", good: (*world).timeoutTx, bad: func(w *world) []*fx {
		fs := w.timeoutTx()
		fs[3] = w.notice24(w.t0.Add(21 * time.Hour))
		return fs
	}},
	{rule: "TIM-05", good: (*world).timeoutTx, bad: func(w *world) []*fx { return append(w.timeoutTx(), w.notice24(w.t0.Add(25*time.Hour))) }},
	{rule: "BRV-01", good: func(w *world) []*fx { return w.breveTx(sha1hex("JVBERi0xLjQK\r\n"), false) },
		bad: func(w *world) []*fx { return w.breveTx(sha1hex("JVBERi0xLjQK\r\n"), true) }},
	{rule: "BRV-03", good: func(w *world) []*fx { return w.breveTx(sha1hex("%PDF-1.4\n"), false) },
		bad: func(w *world) []*fx { return w.breveTx(sha1hex("something else"), false) }},
}

// testingTB lets a fixture be built where no *testing.T is at hand.
type testingTB struct{ testing.TB }

func (testingTB) Helper()               {}
func (testingTB) Fatal(args ...any)     { panic(fmt.Sprint(args...)) }
func (testingTB) Fatalf(string, ...any) {}

func TestTransactionRules(t *testing.T) {
	w := fixtures(t)
	for _, c := range txCases {
		t.Run(c.rule, func(t *testing.T) {
			good, ok := verdict(w.tx(t, c.good(w)), c.rule)
			if !ok || good.Status != Pass {
				t.Fatalf("correct transaction: %s %s: %s", c.rule, good.Status, good.Detail)
			}
			bad, ok := verdict(w.tx(t, c.bad(w)), c.rule)
			if !ok || bad.Status != Fail {
				t.Fatalf("spoilt transaction: %s %s: %s", c.rule, bad.Status, bad.Detail)
			}
			t.Logf("%s fails as: %s", c.rule, bad.Detail)
		})
	}
}

// TestEveryRuleIsShownFailing: each rule of the catalogue has a case above.
func TestEveryRuleIsShownFailing(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range singles {
		covered[c.rule] = true
	}
	for _, c := range txCases {
		covered[c.rule] = true
	}
	for _, r := range Catalogue() {
		if !covered[r.ID] {
			t.Errorf("%s has no pass/fail case", r.ID)
		}
	}
}

func breveReceipt(orig func(w *world) []byte) edit {
	return func(w *world, f *fx) { f.dc.ricevuta, f.orig = str("breve"), orig(w) }
}

func (w *world) breveGood() []byte { return w.breveOf(sha1hex("JVBERi0xLjQK"), sha1hex("x")) }

// signedOriginal is an S/MIME multipart/signed original as breve leaves it:
// the content's named part hashed, the signature part kept or not.
func (w *world) signedOriginal(keepSig bool) []byte {
	sig := lines(`Content-Type: application/pkcs7-signature; name="smime.p7s"`, "Content-Transfer-Encoding: base64", "", "MIIB")
	if !keepSig {
		sig = lines(`Content-Type: text/plain; name="smime.p7s.hash"`, "", sha1hex("MIIB"))
	}
	return []byte(lines("From: "+w.sender, "To: "+w.rcpt, "Subject: "+fxSubject, "MIME-Version: 1.0",
		`Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="s"`, "",
		"--s", `Content-Type: text/plain; name="a.txt.hash"`, "", sha1hex("a"), "--s") + sig + "--s--\r\n")
}

func (w *world) pkcs7MimeTx(alter bool) []*fx {
	orig := []byte(lines("From: "+w.sender, "To: "+w.rcpt, "Subject: "+fxSubject, "Message-ID: <"+fxPECID+">",
		"X-Riferimento-Message-ID: "+fxClientID, "MIME-Version: 1.0",
		`Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"`, "Content-Transfer-Encoding: base64", "", "MIAGCSqGSIb3DQEHA6CAMIACAQA="))
	env := w.msg(T)
	env.orig = orig
	env.set("X-TipoRicevuta", "breve")
	env.dc.ricevuta = str("breve")
	con := w.msg(C)
	con.dc.ricevuta, con.orig = str("breve"), orig
	if alter {
		con.orig = []byte(strings.Replace(string(orig), "MIAGCSqGSIb3DQEHA6CAMIACAQA=", sha1hex("MIAGCSqGSIb3DQEHA6CAMIACAQA="), 1))
	}
	return []*fx{w.msg(A), env, w.msg(P), con}
}

func init() {
	singles = append(singles,
		single{rule: "BRV-02", kind: C, prep: breveReceipt((*world).breveGood), bad: func(w *world, f *fx) { f.orig = w.withAttachment() }},
		single{rule: "BRV-04", kind: C, prep: breveReceipt((*world).breveGood), bad: func(w *world, f *fx) {
			f.orig = []byte(strings.Replace(string(w.withAttachment()), `Content-Type: application/pdf; name="a.pdf"`+crlf+
				"Content-Transfer-Encoding: base64"+crlf+`Content-Disposition: attachment; filename="a.pdf"`+crlf+crlf+"JVBERi0xLjQK",
				`Content-Type: text/plain; name="a.pdf.hash"`+crlf+crlf+sha1hex("JVBERi0xLjQK"), 1))
		}},
		single{rule: "BRV-05", kind: C, prep: breveReceipt(func(w *world) []byte { return w.signedOriginal(true) }),
			bad: func(w *world, f *fx) { f.orig = w.signedOriginal(false) }},
	)
	txCases = append(txCases, txCase{rule: "BRV-06",
		good: func(w *world) []*fx { return w.pkcs7MimeTx(false) }, bad: func(w *world) []*fx { return w.pkcs7MimeTx(true) }})
}
