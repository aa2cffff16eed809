package report

import (
	"crypto/x509"
	"strings"

	"github.com/pecspec/pecspec/pec"
)

// innerSigner returns the certificate that signed the received message, if
// it is an S/MIME message with a readable signature.
func innerSigner(orig *pec.Entity) *x509.Certificate {
	inner := newMsg(orig.Raw, Options{})
	return inner.signature().cert
}

func init() {
	ano := kinds(pec.KindAnomalia)
	register(
		Rule{ID: "ANO-01", Level: Must, Section: "RFC6109 §3.2.2", Kinds: ano,
			Title: "X-Trasporto errore; Subject ANOMALIA MESSAGGIO: <subject>", check: subjectPrefixed},
		Rule{ID: "ANO-02", Level: Must, Section: "RFC6109 §3.2.2", Kinds: ano, Needs: []need{needReceived},
			Title: "From \"Per conto di: <sender>\" <service address>; Reply-To the sender when the message had none",
			check: func(x *Msg) outcome {
				orig := x.original()
				_, name := x.fromAddr()
				sender := addrs(orig, "From")
				if len(sender) == 0 {
					return na("the received message has no readable From")
				}
				if !strings.HasPrefix(name, perContoDi) || !strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(name, perContoDi)), sender[0]) {
					return fail("From %q, want \"%s%s\" <service address>", x.header("From"), perContoDi, sender[0])
				}
				want := addrs(orig, "Reply-To")
				if len(want) == 0 {
					want = sender
				}
				if got := addrs(x.M.Outer, "Reply-To"); !sameSet(got, want) {
					return fail("Reply-To %v, want %v", got, want)
				}
				return pass("on behalf of %s", sender[0])
			}},
		Rule{ID: "ANO-03", Level: Must, Section: "RFC6109 §3.2.2", Kinds: ano, Needs: []need{needReceived},
			Title: "Received, To, Cc, Return-Path and Message-ID copied unmodified from the received message",
			check: func(x *Msg) outcome {
				orig := x.original()
				for _, h := range []string{"To", "Cc"} {
					if got, want := addrs(x.M.Outer, h), addrs(orig, h); !sameSet(got, want) {
						return fail("%s %v, received message %v", h, got, want)
					}
				}
				for _, h := range []string{"Return-Path", "Message-ID"} {
					if want := orig.Header.Get(h); want != "" && collapse(x.header(h)) != collapse(want) {
						return fail("%s %q, received message %q", h, x.header(h), want)
					}
				}
				if r, missing := receivedNotCopied(x.M.Outer, orig); missing {
					return fail("received message's Received %q not copied", r)
				}
				return pass("copied")
			}},
		Rule{ID: "ANO-04", Level: Must, Section: "RFC6109 §3.2.2", Kinds: ano, Needs: []need{hasOriginal},
			Title: "Only two parts, the text and the whole received message; no daticert.xml",
			Note:  "pec-rules A17: text plus original, nothing else",
			check: func(x *Msg) outcome {
				switch {
				case x.M.Daticert != nil:
					return fail("busta di anomalia carries %s", x.M.Daticert.Filename())
				case len(x.M.Mixed) != 2 || x.M.Text == nil || x.M.Original == nil || x.M.Mixed[1] != x.M.Original:
					return fail("parts %s, want the text and the received message (message/rfc822)", partTypes(x.M.Mixed))
				case x.original() == nil:
					return fail("the received message (message/rfc822) cannot be read")
				}
				return pass("text + message/rfc822")
			}},
		Rule{ID: "ANO-05", Level: Must, Section: "RFC6109 §3.2.2", Kinds: ano, Needs: []need{needText, needReceived},
			Title: "Text gives arrival date and time, subject, sender, recipients and an error description",
			Note:  "pec-rules A23: the data items are required, not the exact sentence",
			check: func(x *Msg) outcome {
				orig := x.original()
				if !reTextDate.MatchString(x.text) || !reTextTime.MatchString(x.text) {
					return fail("text lacks the arrival date dd/mm/yyyy and time hh:mm:ss")
				}
				items := append(addrs(orig, "From"), append(addrs(orig, "To"), addrs(orig, "Cc")...)...)
				if s := originalSubject(orig.Header.Get("Subject")); s != "" && !containsSubject(x.text, s) {
					return fail("text does not give %q", s)
				}
				for _, it := range items {
					if !containsFold(x.text, it) {
						return fail("text does not give %q", it)
					}
				}
				lines := 0
				for _, l := range strings.Split(x.text, "\n") {
					if strings.TrimSpace(l) != "" {
						lines++
					}
				}
				if lines < 3 {
					return fail("text too short to describe the error (%d lines)", lines)
				}
				return pass("%d items given", len(items))
			}},
		Rule{ID: "ANO-06", Level: Must, Section: "RFC6109 §2.1", Kinds: ano, Needs: []need{needCert, needReceived},
			Title: "Signed by the recipient's provider",
			check: func(x *Msg) outcome {
				c, orig := x.signature().cert, x.original()
				if ic := innerSigner(orig); ic != nil && ic.Equal(c) {
					return fail("signed with the certificate of the received message's signer")
				}
				p, _ := x.signerProvider()
				if p == nil {
					return pass("signed by %q, not by the received message's signer (no index to check more)", c.Subject.CommonName)
				}
				for _, r := range append(addrs(orig, "To"), addrs(orig, "Cc")...) {
					if p.Manages(domainOf(r)) {
						return pass("signed by %q, which manages %s", p.Name, domainOf(r))
					}
				}
				return fail("signed by %q, which manages none of the recipients' domains", p.Name)
			}},
	)
}
