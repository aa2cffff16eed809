package report

import (
	"regexp"
	"strings"
)

// Helpers shared by the notice families (NAC, ERR, TIM, VIR, ANO).

// virusMarked reports which of the three virus markers a notice carries:
// X-VerificaSicurezza: errore, the "PER VIRUS" subject prefix and errore="virus"
// (RFC 6109 §3.1.3, §3.2.4).
func virusMarked(x *Msg) (header, subject, xml bool) {
	header = strings.TrimSpace(x.header(hVerifica)) == vErrore
	s := x.subject()
	subject = strings.HasPrefix(s, sNonAccettazioneVir) || strings.HasPrefix(s, sErroreConsegnaVir)
	xml = x.dc != nil && x.dc.Errore == eVirus
	return
}

// virusCase checks that a notice's virus markers agree: all three or none.
// It returns na when the notice is not about a virus.
func virusCase(x *Msg, wantPrefix string) outcome {
	h, s, v := virusMarked(x)
	switch {
	case !h && !s && !v:
		return na("not a virus notice")
	case !h:
		return fail("virus notice without %s: %s", hVerifica, vErrore)
	case !strings.HasPrefix(x.subject(), wantPrefix):
		return fail("virus notice Subject %q, want prefix %q", x.subject(), wantPrefix)
	case !v:
		errore := "unreadable"
		if x.dc != nil {
			errore = x.dc.Errore
		}
		return fail("virus notice with daticert errore %q, want %s", errore, eVirus)
	}
	return pass("%s, %q and errore=%s agree", hVerifica, strings.TrimSpace(wantPrefix), eVirus)
}

// noOriginal fails when the notice carries the original message in any form.
func noOriginal(x *Msg) outcome {
	for _, p := range x.M.Mixed {
		t, _ := p.MediaType()
		if t == "message/rfc822" || strings.EqualFold(p.Filename(), nPostacert) {
			return fail("carries the original as %s %q", t, p.Filename())
		}
	}
	return pass("no original in %d parts", len(x.M.Mixed))
}

// erroreEsteso is daticert errore-esteso, "" when absent.
func erroreEsteso(x *Msg) string {
	if x.dc == nil {
		return ""
	}
	return deref(x.dc.Esteso)
}

// collapse folds runs of white space to one space and lowercases.
func collapse(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// statesReason checks that the text gives the error description (the
// errore-esteso value, white space and case aside) and says what happened,
// by one of the phrases of the RFC templates or the observed Italian texts
// (pec-rules A23: required items, not exact sentences).
func statesReason(x *Msg, outcomePhrase *regexp.Regexp, what string) outcome {
	if x.text == "" {
		return fail("the text part is empty or unreadable%s", faultNote(x.textFault))
	}
	reason := erroreEsteso(x)
	if reason != "" && !strings.Contains(collapse(x.text), collapse(reason)) {
		return fail("text does not give the error description %q", reason)
	}
	if !outcomePhrase.MatchString(collapse(x.text)) {
		return fail("text does not say the message %s", what)
	}
	return pass("reason %q stated", reason)
}

// fromServiceTo checks the common headers of a notice to the sender: From is
// the service address (no "Per conto di") and To is the original sender.
func fromServiceTo(x *Msg) outcome {
	if o := fromService(x); o.status != Pass {
		return o
	}
	return toSender(x)
}

// subjectPrefixed checks the subject prefix of the message's kind (prefix()).
func subjectPrefixed(x *Msg) outcome {
	want := prefix(x)
	if !strings.HasPrefix(x.subject(), want) {
		return fail("Subject %q, want prefix %q", x.subject(), want)
	}
	return pass("Subject prefix %q", strings.TrimSpace(want))
}

// all runs checks in order and returns the first that does not pass.
func all(x *Msg, checks ...func(*Msg) outcome) outcome {
	var last outcome
	for _, c := range checks {
		if last = c(x); last.status != Pass {
			return last
		}
	}
	return last
}
