package report

import (
	"net/mail"
	"regexp"
	"slices"
	"strings"

	"github.com/pecspec/pecspec/pec"
)

var rePECMsgID = regexp.MustCompile(`^<[A-Za-z0-9][A-Za-z0-9._\-]*@[A-Za-z0-9][A-Za-z0-9.-]*>$`)

// trnRule builds a TRN rule that also needs the embedded original (TRN-10
// fails when there is none).
func trnRule(id, sec, title string, f func(x *Msg, orig *pec.Entity) outcome, needs ...need) Rule {
	return Rule{ID: id, Level: Must, Section: sec, Kinds: kinds(pec.KindTrasporto), Title: title,
		Needs: append([]need{needPostacert}, needs...),
		check: func(x *Msg) outcome { return f(x, x.original()) }}
}

// receivedNotCopied returns the first Received field of orig that the
// wrapping message does not carry. Refolding is no change (RFC 5322 §2.2.3):
// fields are compared with whitespace collapsed.
func receivedNotCopied(wrapper, orig *pec.Entity) (string, bool) {
	var have []string
	for _, r := range wrapper.Header.Values("Received") {
		have = append(have, strings.Join(strings.Fields(r), " "))
	}
	for _, r := range orig.Header.Values("Received") {
		if !slices.Contains(have, strings.Join(strings.Fields(r), " ")) {
			return r, true
		}
	}
	return "", false
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

func init() {
	register(trnHeaders()...)
	register(trnContent()...)
}

func trnHeaders() []Rule {
	return []Rule{
		trnRule("TRN-01", "RFC6109 §3.1.5", "X-Trasporto posta-certificata; Subject POSTA CERTIFICATA: <subject>",
			func(x *Msg, orig *pec.Entity) outcome {
				subj := originalSubject(orig.Header.Get("Subject"))
				want := sTrasporto + subj
				got := x.subject()
				if rest, ok := strings.CutPrefix(got, sTrasporto); !ok || !sameSubject(rest, subj) {
					return fail("Subject %q, want %q", got, want)
				}
				return pass("%q", got)
			}),
		trnRule("TRN-02", "RFC6109 §3.1.5", "From is \"Per conto di: <sender>\" <service address>, one author",
			func(x *Msg, orig *pec.Entity) outcome {
				list, err := mail.ParseAddressList(x.header("From"))
				if err != nil || len(list) != 1 {
					return fail("From %q is not one address", x.header("From"))
				}
				sender := ""
				if o, err := mail.ParseAddress(orig.Header.Get("From")); err == nil {
					sender = o.Address
				}
				if want := perContoDi + sender; !strings.EqualFold(list[0].Name, want) {
					return fail("display name %q, want %q", list[0].Name, want)
				}
				if strings.EqualFold(list[0].Address, sender) {
					return fail("author address is the original sender's")
				}
				return pass("%s", x.header("From"))
			}),
		{ID: "TRN-03", Level: Must, Section: "RFC6109 §2.1", Kinds: kinds(pec.KindTrasporto), Title: "Sender, if present, equals From",
			check: func(x *Msg) outcome {
				if s := x.header("Sender"); s != "" && s != x.header("From") {
					return fail("Sender %q differs from From %q", s, x.header("From"))
				}
				return pass("consistent")
			}},
		trnRule("TRN-04", "RFC6109 §3.1.5", "Reply-To is the original's, else the original sender",
			func(x *Msg, orig *pec.Entity) outcome {
				want := addrs(orig, "Reply-To")
				if len(want) == 0 {
					want = addrs(orig, "From")
				}
				if got := addrs(x.M.Outer, "Reply-To"); !sameSet(got, want) {
					return fail("Reply-To %v, want %v", got, want)
				}
				return pass("%v", want)
			}),
		trnRule("TRN-05", "RFC6109 §3.1.5", "To, Cc, Received, Return-Path copied unmodified from the original",
			func(x *Msg, orig *pec.Entity) outcome {
				for _, h := range []string{"To", "Cc"} {
					if got, want := addrs(x.M.Outer, h), addrs(orig, h); !sameSet(got, want) {
						return fail("%s %v, original %v", h, got, want)
					}
				}
				if r, missing := receivedNotCopied(x.M.Outer, orig); missing {
					return fail("original Received %q not copied", r)
				}
				return pass("copied")
			}),
		{ID: "TRN-06", Level: Must, Section: "RFC6109 §2.2.1", Kinds: kinds(pec.KindTrasporto), Title: "Message-ID is the PEC msgid <alnum@provider domain>",
			check: func(x *Msg) outcome {
				if id := x.header("Message-ID"); !rePECMsgID.MatchString(id) {
					return fail("Message-ID %q", id)
				}
				return pass("%s", x.header("Message-ID"))
			}},
		trnRule("TRN-08", "RFC6109 §2.2.1", "X-Riferimento-Message-ID is the client's original Message-ID",
			func(x *Msg, orig *pec.Entity) outcome {
				ref := x.header(hRiferimento)
				inner := strings.TrimSpace(orig.Header.Get(hRiferimento))
				switch {
				case ref == "" && inner == "":
					return na("the original had no Message-ID")
				case normID(ref) != normID(inner):
					return fail("envelope %q, inner message %q", ref, inner)
				}
				return pass("%s", ref)
			}),
		trnRule("TRN-09", "RFC6109 §3.3.2", "X-TipoRicevuta, if present, is completa/breve/sintetica and equals the original's",
			func(x *Msg, orig *pec.Entity) outcome {
				v := x.header(hTipoRicevuta)
				o := strings.TrimSpace(orig.Header.Get(hTipoRicevuta))
				switch {
				case v == "":
					return pass("absent (completa by default, pec-rules A14)")
				case v != rCompleta && v != rBreve && v != rSintetica:
					return fail("%s %q is not %s, %s or %s (values are exact)", hTipoRicevuta, v, rCompleta, rBreve, rSintetica)
				case o != "" && o != v:
					return fail("%s %q, original %q", hTipoRicevuta, v, o)
				}
				return pass("%s", v)
			}),
	}
}
