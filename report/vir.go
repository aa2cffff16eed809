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
				m := x.header(pec.HeaderMittente)
				if m == "" {
					return fail("no X-Mittente")
				}
				if x.M.Postacert != nil && !strings.EqualFold(normID(m), strings.TrimSpace(x.M.Postacert.Intestazione.Mittente)) {
					return fail("X-Mittente %q, daticert mittente %q", m, x.M.Postacert.Intestazione.Mittente)
				}
				return pass("X-Mittente %s", m)
			}},
		Rule{ID: "VIR-02", Level: Must, Section: "RFC6109 §3.2.3", Kinds: vir,
			Title: "Rilevazione virus To is the sender provider's mailReceipt", check: toMailReceipt},
		Rule{ID: "VIR-04", Level: Must, Section: "RFC6109 §3.2.3", Kinds: vir,
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
				if x.header(pec.HeaderVerificaSicurezza) == "" {
					return pass("no X-VerificaSicurezza")
				}
				virusKind := x.Kind == pec.KindNonAccettazione || x.Kind == pec.KindErroreConsegna || x.Kind == pec.KindRilevazioneVirus
				if _, _, v := virusMarked(x); !virusKind || !v {
					return fail("X-VerificaSicurezza on a %s that is not about a virus", x.Kind)
				}
				return pass("on a virus %s", x.Kind)
			}},
	)
}
