package report

// need is a precondition of a rule: the data its check judges. It returns
// ok, or the ID of the rule whose failure is the root cause of the data
// being missing (issue 14: one root cause, one failure). Each root rule
// fails whenever its need reports it, so a dependent's "not judged: GEN-01
// failed" always points at a failure in the same verdict list
// (TestDependenciesNameAFailedRoot).
type need func(x *Msg) (root string, ok bool)

// content: the entity the certification parts are read from (the signed
// content, or the message body when unsigned) was found.
func needContent(x *Msg) (string, bool) {
	if x.M.Content == nil {
		return "GEN-01", false
	}
	return "", true
}

// cutRoot is the rule that reports a cut body when the multipart/mixed may
// have lost parts to it: GEN-01 when the multipart/signed was cut inside
// its content, GEN-02 when only the multipart/mixed is unterminated; "" when
// nothing was cut. A part missing from a cut body is not judged missing.
func cutRoot(x *Msg) string {
	switch {
	case x.M.SignedFault != "" && x.M.Signed == nil:
		return "GEN-01"
	case x.M.MixedFault != "":
		return "GEN-02"
	}
	return ""
}

// whole: the multipart/mixed was not cut short by a cut multipart/signed
// (GEN-02 then has nothing of its own to report).
func needWholeContent(x *Msg) (string, bool) {
	if root, ok := needContent(x); !ok {
		return root, false
	}
	if x.M.SignedFault != "" && x.M.Signed == nil {
		return "GEN-01", false
	}
	return "", true
}

// present returns a need for a part that a cut body may have lost: the
// part's finder reports whether it is there.
func present(part func(*Msg) bool) need {
	return func(x *Msg) (string, bool) {
		if root, ok := needMixed(x); !ok {
			return root, false
		}
		if root := cutRoot(x); root != "" && !part(x) {
			return root, false
		}
		return "", true
	}
}

var (
	hasDaticert = present(func(x *Msg) bool { return x.M.Daticert != nil })
	hasOriginal = present(func(x *Msg) bool { return x.M.Original != nil })
)

// mixed: the multipart/mixed of RFC 6109 §4.3 was read.
func needMixed(x *Msg) (string, bool) {
	if root, ok := needContent(x); !ok {
		return root, false
	}
	if len(x.M.Mixed) == 0 {
		return "GEN-02", false
	}
	return "", true
}

// text: the human-readable first part (RFC 6109 §4.3.1).
func needText(x *Msg) (string, bool) {
	if root, ok := needMixed(x); !ok {
		return root, false
	}
	if x.M.Text == nil {
		return "GEN-03", false
	}
	return "", true
}

// signed: a multipart/signed with a signature part (RFC 6109 §2.1).
func needSigned(x *Msg) (string, bool) {
	if x.M.Signed == nil {
		return "GEN-01", false
	}
	return "", true
}

// cms: the signature part parses as CMS SignedData (SIG-01).
func needCMS(x *Msg) (string, bool) {
	if root, ok := needSigned(x); !ok {
		return root, false
	}
	if x.signature().p7 == nil {
		return "SIG-01", false
	}
	return "", true
}

// cert: the CMS carries the signer's certificate (SIG-03).
func needCert(x *Msg) (string, bool) {
	if root, ok := needCMS(x); !ok {
		return root, false
	}
	if x.signature().cert == nil {
		return "SIG-03", false
	}
	return "", true
}

// daticertPart: there is a certification-data part (GEN-10).
func needDaticertPart(x *Msg) (string, bool) {
	if root, ok := hasDaticert(x); !ok {
		return root, false
	}
	if x.M.Daticert == nil {
		return "GEN-10", false
	}
	return "", true
}

// daticert: the certification data was read (GEN-10 finds the part, DAT-01
// reads it).
func needDaticert(x *Msg) (string, bool) {
	if root, ok := hasDaticert(x); !ok {
		return root, false
	}
	switch {
	case x.M.Daticert == nil:
		return "GEN-10", false
	case x.dc == nil:
		return "DAT-01", false
	}
	return "", true
}

// original: the envelope's postacert.eml can be read (TRN-10 is the root).
func needPostacert(x *Msg) (string, bool) {
	if root, ok := hasOriginal(x); !ok {
		return root, false
	}
	if x.original() == nil {
		return "TRN-10", false
	}
	return "", true
}

// received: the anomaly's received message can be read (ANO-04 is the root).
func needReceived(x *Msg) (string, bool) {
	if root, ok := hasOriginal(x); !ok {
		return root, false
	}
	if x.original() == nil {
		return "ANO-04", false
	}
	return "", true
}

// blocked returns the root cause that keeps r from judging x, if any.
func (x *Msg) blocked(r Rule) (string, bool) {
	for _, n := range r.Needs {
		if root, ok := n(x); !ok && root != r.ID {
			return root, true
		}
	}
	return "", false
}

// notJudged is the detail of a rule blocked by root, by the root's verdict.
func notJudged(root string, vs []Verdict) string {
	for _, v := range vs {
		if v.Rule != root {
			continue
		}
		switch v.Status {
		case Fail:
			return "not judged: " + root + " failed"
		case Error, Unknown:
			return "not judged: " + root + " could not be decided"
		}
		return "not judged: nothing to judge (" + root + ": " + v.Detail + ")"
	}
	return "not judged: " + root + " does not apply, so its data is missing"
}
