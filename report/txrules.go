package report

import (
	"strings"
	"time"

	"github.com/pecspec/pecspec/pec"
)

func init() {
	register(
		multi("ACC-07", "RFC6109 §3.1.4", "accettazione identificativo equals the busta di trasporto Message-ID",
			func(tx *Tx) outcome {
				acc, env := tx.one(pec.KindAccettazione), tx.one(pec.KindTrasporto)
				if acc == nil || env == nil {
					return na("needs both the accettazione and the busta di trasporto")
				}
				if id, mid := acc.identificativo(), normID(env.header("Message-ID")); id != mid {
					return fail("accettazione identificativo %q, envelope Message-ID %q", id, mid)
				}
				return pass("%s", acc.identificativo())
			}),
		multi("ACC-08", "RFC6109 §4.1", "accettazione and busta di trasporto carry one transaction instant",
			func(tx *Tx) outcome {
				acc, env := tx.one(pec.KindAccettazione), tx.one(pec.KindTrasporto)
				if acc == nil || env == nil {
					return na("needs both the accettazione and the busta di trasporto")
				}
				a, ok1 := daticertInstant(acc)
				e, ok2 := daticertInstant(env)
				ad, _ := acc.date()
				ed, _ := env.date()
				if !ok1 || !ok2 || !a.Equal(e) || !ad.Equal(ed) {
					return fail("accettazione %s / %s, envelope %s / %s", a, ad, e, ed)
				}
				return pass("%s", a.Format(time.RFC3339))
			}),
		multi("ACC-09", "RFC6109 §2.2.1", "exactly one accettazione per accepted submission",
			func(tx *Tx) outcome {
				n := len(tx.of(pec.KindAccettazione))
				if n == 0 && len(tx.of(pec.KindNonAccettazione)) > 0 {
					return na("the submission was not accepted")
				}
				if n == 0 && tx.Sub.Relayed {
					return na("the envelope came from the probe's peer provider: no accettazione of the graded provider")
				}
				if n == 0 && tx.Sub.Ordinary {
					return na("ordinary mail sent to the MX: no PEC submission")
				}
				if n != 1 {
					return fail("%d accettazione", n)
				}
				return pass("one")
			}),
		multi("TRN-07", "RFC6109 §2.2.1", "PEC msgids are unique: each system message has its own Message-ID",
			func(tx *Tx) outcome {
				seen := map[string]pec.Kind{}
				envID := ""
				for _, m := range tx.Msgs {
					id := normID(m.header("Message-ID"))
					if m.Kind == pec.KindTrasporto {
						if envID != "" && id != envID {
							return fail("two envelopes with Message-IDs %s and %s for one submission", envID, id)
						}
						envID = id
						continue
					}
					if k, dup := seen[id]; dup && id != "" {
						return fail("Message-ID %s used by a %s and a %s", id, k, m.Kind)
					}
					seen[id] = m.Kind
				}
				if _, dup := seen[envID]; dup && envID != "" {
					return fail("Message-ID %s of the envelope reused by a %s", envID, seen[envID])
				}
				return pass("%d distinct", len(seen)+1)
			}),
		multi("PIC-03", "RFC6109 §2.1.1.1.1", "presa in carico is never delivered to an end-user mailbox",
			func(tx *Tx) outcome {
				for i, m := range tx.Msgs {
					if m.Kind == pec.KindPresaInCarico && !tx.Caps[i].Service {
						return fail("presa in carico found in %s", tx.Caps[i].Mailbox)
					}
				}
				return pass("only in service mailboxes")
			}),
		multi("PIC-05", "RFC6109 §3.2.1", "the ricezione of the presa in carico cover every certified recipient",
			func(tx *Tx) outcome {
				pics := tx.of(pec.KindPresaInCarico)
				if len(pics) == 0 {
					return na("no presa in carico captured")
				}
				covered := map[string]bool{}
				for _, p := range pics {
					if p.dc != nil {
						for _, r := range p.dc.Ricezione {
							covered[strings.ToLower(strings.TrimSpace(r))] = true
						}
					}
				}
				for _, r := range tx.certified() {
					if !covered[r] {
						return fail("no presa in carico covers %s", r)
					}
				}
				return pass("%d recipients covered", len(covered))
			}),
		multi("PIC-07", "RFC6109 §2.1", "presa in carico is signed by the receiving provider",
			func(tx *Tx) outcome {
				pics, env := tx.of(pec.KindPresaInCarico), tx.one(pec.KindTrasporto)
				if len(pics) == 0 || env == nil {
					return na("needs the presa in carico and the envelope")
				}
				ec := env.signature().cert
				var signers []string
				for _, pic := range pics {
					pc := pic.signature().cert
					if pc == nil || ec == nil {
						return fail("a signer certificate is missing")
					}
					// A presa in carico covering only the sender's own
					// domain comes from the sender's provider (APC-12).
					own := pic.dc != nil && len(pic.dc.Ricezione) > 0
					if pic.dc != nil {
						for _, r := range pic.dc.Ricezione {
							own = own && domainOf(strings.TrimSpace(r)) == domainOf(tx.Sub.Sender)
						}
					}
					if pc.Equal(ec) && !own {
						return fail("a presa in carico for other domains is signed with the sender provider's certificate")
					}
					signers = append(signers, pc.Subject.CommonName)
				}
				return pass("signed by %q", signers)
			}),
	)
	register(conTx()...)
}

func domainOf(addr string) string {
	_, d, _ := strings.Cut(strings.ToLower(addr), "@")
	return d
}
