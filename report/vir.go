package report

import (
	"regexp"
	"strings"

	"github.com/pecspec/pecspec/pec"
)

var reSecurity = regexp.MustCompile(`virus|problema di sicurezza|security problem|contenuto (non|in)sicuro|malware`)

func init() {
	vir := kinds(pec.KindRilevazioneVirus)
	register(
		Rule{ID: "VIR-01", Level: Must, Section: "RFC6109 §3.2.3", Kinds: vir,
			Title: "Rilevazione virus: X-Mittente is the original sender; Subject PROBLEMA DI SICUREZZA: <subject>",
			check: func(x *Msg) outcome {
				if o := subjectPrefixed(x); o.status != Pass {
					return o
				}
				m := x.header(hMittente)
				if m == "" {
					return fail("no %s", hMittente)
				}
				if x.dc != nil && !strings.EqualFold(normID(m), x.dc.Mittente) {
					return fail("%s %q, daticert mittente %q", hMittente, m, x.dc.Mittente)
				}
				return pass("%s %s", hMittente, m)
			}},
		Rule{ID: "VIR-02", Level: Must, Section: "RFC6109 §3.2.3", Kinds: vir, Needs: []need{needDaticert},
			Title: "Rilevazione virus To is the sender provider's mailReceipt", check: toMailReceipt},
		Rule{ID: "VIR-04", Level: Must, Section: "RFC6109 §3.2.3", Kinds: vir, Needs: []need{needText},
			Title: "Rilevazione virus: no original included; the reason is stated",
			check: func(x *Msg) outcome {
				if o := noOriginal(x); o.status != Pass {
					return o
				}
				return statesReason(x, reSecurity, "had a security problem")
			}},
		Rule{ID: "VIR-08", Level: Must, Section: "RFC6109 §2.1.1.1.3", Kinds: allPEC,
			Title: "X-VerificaSicurezza appears only on virus-related notices",
			check: func(x *Msg) outcome {
				if x.header(hVerifica) == "" {
					return pass("no %s", hVerifica)
				}
				virusKind := x.Kind == pec.KindNonAccettazione || x.Kind == pec.KindErroreConsegna || x.Kind == pec.KindRilevazioneVirus
				if _, _, v := virusMarked(x); !virusKind || !v {
					return fail("%s on a %s that is not about a virus", hVerifica, x.Kind)
				}
				return pass("on a virus %s", x.Kind)
			}},
	)
}
