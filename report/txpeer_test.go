package report

import (
	"testing"
)

// TestRelayedAndAtMX: a transaction the probe's peer provider started
// (Submission.Relayed) has no accettazione of the graded provider and no
// graded timers, so ACC-09 and the TIM rules are na, not failures; an
// envelope read at the peer's MX (Captured.AtMX) reached a provider, not a
// mailbox, so it asks for no avvenuta consegna (CON-02) and does not count as
// an infected delivery (VIR-05). Without the flags the same captures fail.
func TestRelayedAndAtMX(t *testing.T) {
	w := fixtures(t)
	grade := func(relayed, atMX bool, fs []*fx) map[string]Verdict {
		var caps []Captured
		for _, f := range fs {
			if f.mailbox == "" {
				w.place(f)
			}
			caps = append(caps, Captured{Mailbox: f.mailbox, Service: f.service, AtMX: atMX && f.kind == T, Raw: f.bytes(t)})
		}
		sub := Submission{Sender: w.sender, To: []string{w.rcpt}, MessageID: fxClientID, Relayed: relayed}
		out := map[string]Verdict{}
		for _, v := range GradeTransaction(sub, caps, w.opts()) {
			out[v.Rule] = v
		}
		return out
	}
	// The peer sent the envelope; the graded provider took charge of it.
	relayed := []*fx{w.msg(T), w.msg(P), w.msg(C)}
	if v := grade(false, false, relayed)["ACC-09"]; v.Status != Fail {
		t.Errorf("ACC-09 without Relayed: %s %s, want fail", v.Status, v.Detail)
	}
	for _, id := range []string{"ACC-09", "TIM-02", "TIM-04"} {
		if v := grade(true, false, relayed)[id]; v.Status != NA {
			t.Errorf("%s with Relayed: %s %s, want na", id, v.Status, v.Detail)
		}
	}
	// The graded provider sent the envelope; the peer's MX read it and
	// sent no receipt.
	noReceipt := []*fx{w.msg(A), w.msg(T), w.msg(P)}
	if v := grade(false, false, noReceipt)["CON-02"]; v.Status != Fail {
		t.Errorf("CON-02 with the envelope in a mailbox and no consegna: %s %s, want fail", v.Status, v.Detail)
	}
	if v := grade(false, true, noReceipt)["CON-02"]; v.Status == Fail {
		t.Errorf("CON-02 with the envelope read at the peer's MX: %s %s, want no failure", v.Status, v.Detail)
	}
	// An infected envelope read at the peer's MX, reported by a rilevazione.
	infected := append(w.virusTx(), w.msg(T))
	if v := grade(false, false, infected)["VIR-05"]; v.Status != Fail {
		t.Errorf("VIR-05 with the infected envelope in the mailbox: %s %s, want fail", v.Status, v.Detail)
	}
	if v := grade(false, true, infected)["VIR-05"]; v.Status != Pass {
		t.Errorf("VIR-05 with the infected envelope at the peer's MX: %s %s, want pass", v.Status, v.Detail)
	}
}

// TestBreveOpaqueNotHashed: a breve receipt that leaves an opaque S/MIME
// original whole (BRV-06) is not failed by BRV-02 for not hashing it.
func TestBreveOpaqueNotHashed(t *testing.T) {
	w := fixtures(t)
	fs := w.pkcs7MimeTx(false)
	for _, f := range fs {
		if f.kind != C {
			continue
		}
		if v, ok := verdict(Grade(f.bytes(t), w.opts()).Verdicts, "BRV-02"); !ok || v.Status == Fail {
			t.Errorf("BRV-02 on a breve receipt with an intact pkcs7-mime original: %s %s", v.Status, v.Detail)
		}
	}
}

// TestCON02TrustsTheIndex: a provider that lists a PEC recipient as esterno
// in its own accettazione does not escape CON-02 for it: with the index the
// grader classifies recipients itself.
func TestCON02TrustsTheIndex(t *testing.T) {
	w := fixtures(t)
	acc := w.msg(A)
	for i := range acc.dc.dest {
		acc.dc.dest[i].tipo = "esterno"
	}
	fs := []*fx{acc, w.msg(T), w.msg(P)} // the envelope reached the mailbox; no consegna
	var caps []Captured
	for _, f := range fs {
		w.place(f)
		caps = append(caps, Captured{Mailbox: f.mailbox, Service: f.service, Raw: f.bytes(t)})
	}
	sub := Submission{Sender: w.sender, To: []string{w.rcpt}, MessageID: fxClientID}
	grade := func(opts Options) Verdict {
		v, _ := verdict(GradeTransaction(sub, caps, opts), "CON-02")
		return v
	}
	if v := grade(w.opts()); v.Status != Fail {
		t.Errorf("with the index: CON-02 %s %s, want fail", v.Status, v.Detail)
	}
	noIndex := w.opts()
	noIndex.Index = nil
	if v := grade(noIndex); v.Status == Fail {
		t.Errorf("without the index the accettazione's classification stands: CON-02 %s %s", v.Status, v.Detail)
	}
}
