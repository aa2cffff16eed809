package report

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/pecspec/pecspec/pec"
)

// classify tells what a message is (GEN-12, RFC 6109 §2.1, Appendix A) from
// its identifying headers, read with the grader's own table: names are
// case-insensitive, values exact. It is sconosciuto, with the reason GEN-12
// gives, for contradictory or unknown markers; for input that is no RFC 5322
// message at all (notMessage: nothing else is judged); and for a message
// shaped like PEC (certification data, a PEC subject, a "Per conto di"
// sender, a signature) whose identifying header is missing.
func classify(x *Msg) (k pec.Kind, why string, notMessage bool) {
	h := x.M.Outer.Header
	ric, tra := h.Values(hRicevuta), h.Values(hTrasporto)
	switch {
	case len(ric) > 0 && len(tra) > 0:
		return pec.KindSconosciuto, fmt.Sprintf("both %s %q and %s %q", hRicevuta, ric[0], hTrasporto, tra[0]), false
	case len(tra) > 0:
		switch v := strings.TrimSpace(tra[0]); v {
		case vPostaCertificata:
			return pec.KindTrasporto, "", false
		case vErrore:
			return pec.KindAnomalia, "", false
		default:
			return pec.KindSconosciuto, fmt.Sprintf("%s %q is neither %q nor %q (RFC 6109 Appendix A; values are exact)",
				hTrasporto, v, vPostaCertificata, vErrore), false
		}
	case len(ric) > 0:
		v := strings.TrimSpace(ric[0])
		if k, ok := ricevute[v]; ok {
			return k, "", false
		}
		return pec.KindSconosciuto, fmt.Sprintf("%s %q is not a value of RFC 6109 Appendix A (values are exact)", hRicevuta, v), false
	}
	if why := notRFC5322(x); why != "" {
		return pec.KindSconosciuto, why, true
	}
	if signs := pecShape(x); signs != "" {
		return pec.KindSconosciuto, "no " + hTrasporto + " or " + hRicevuta + " header, yet shaped like PEC: " + signs + lookalikes(x), false
	}
	return pec.KindOrdinaria, "", false
}

// notRFC5322 says why raw is no RFC 5322 message: empty, no header section
// (the first line is not a header field), or none of the fields every
// message has (From and Date, RFC 5322 §3.6); "" when it is one.
func notRFC5322(x *Msg) string {
	if len(bytes.TrimSpace(x.Raw)) == 0 {
		return "empty input: not an RFC 5322 message"
	}
	if x.M.Outer.Header.Len() == 0 {
		first, _, _ := bytes.Cut(x.Raw, []byte("\n"))
		return fmt.Sprintf("not an RFC 5322 message: the first line %.60q is not a header field", bytes.TrimRight(first, "\r"))
	}
	if !x.M.Outer.Header.Has("From") && !x.M.Outer.Header.Has("Date") {
		return "not an RFC 5322 message: no From and no Date field (RFC 5322 §3.6)"
	}
	return ""
}

// pecShape lists what makes a message without identifying header look like
// PEC; "" when it does not: a daticert.xml part, or a signature together
// with a PEC subject prefix or a "Per conto di" sender, or those two.
func pecShape(x *Msg) string {
	var signs []string
	daticert := x.M.Daticert != nil
	if daticert {
		signs = append(signs, "a "+x.M.Daticert.Filename()+" part")
	}
	prefix := ""
	for _, p := range append(mapValues(prefixes), mapValues(virusPrefixes)...) {
		if strings.HasPrefix(x.subject(), p) && len(p) > len(prefix) {
			prefix = p
		}
	}
	if prefix != "" {
		signs = append(signs, fmt.Sprintf("the subject prefix %q", prefix))
	}
	_, name := x.fromAddr()
	onBehalf := strings.HasPrefix(name, perContoDi)
	if onBehalf {
		signs = append(signs, fmt.Sprintf("a %q sender", strings.TrimSpace(perContoDi)))
	}
	signed := x.M.Signed != nil
	if signed {
		signs = append(signs, "an S/MIME signature")
	}
	if daticert || (signed && (prefix != "" || onBehalf)) || (prefix != "" && onBehalf) {
		return strings.Join(signs, ", ")
	}
	return ""
}

// lookalikes names header fields that look like a misspelt identifying
// header ("X-Ricevute", "X-Trasport").
func lookalikes(x *Msg) string {
	var out []string
	for f := x.M.Outer.Header.Fields(); f.Next(); {
		k := strings.ToLower(f.Key())
		if strings.HasPrefix(k, "x-ricev") || strings.HasPrefix(k, "x-trasp") || strings.HasPrefix(k, "xricev") || strings.HasPrefix(k, "xtrasp") {
			out = append(out, fmt.Sprintf("%s: %s", f.Key(), f.Value()))
		}
	}
	if len(out) == 0 {
		return ""
	}
	return "; a look-alike header is no identifying header: " + strings.Join(out, ", ")
}

func mapValues(m map[pec.Kind]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
