package report

// need is a precondition of a rule: the data its check judges. It returns
// ok, or the ID of the rule whose failure is the root cause of the data
// being missing (issue 14: one root cause, one failure). Each root rule
// fails whenever its need reports it, so a dependent's "not judged: GEN-01
// failed" always points at a failure in the same verdict list
// (TestDependenciesNameAFailedRoot).
type need func(x *Msg) (root string, ok bool)

// then is a need met when prev is and missing(x) is false; else its root.
func then(prev need, root string, missing func(*Msg) bool) need {
	return func(x *Msg) (string, bool) {
		if r, ok := prev(x); !ok {
			return r, false
		}
		if missing(x) {
			return root, false
		}
		return "", true
	}
}

// always is the need met by every message.
func always(*Msg) (string, bool) { return "", true }

// cutRoot is the rule that reports a cut body when the multipart/mixed may
// have lost parts to it: GEN-01 when the multipart/signed was cut inside
// its content, GEN-02 when only the multipart/mixed is unterminated; "" when
// nothing was cut. A part missing from a cut body is not judged missing.
func cutRoot(x *Msg) string {
	switch {
	case contentCut(x):
		return "GEN-01"
	case x.M.MixedFault != "":
		return "GEN-02"
	}
	return ""
}

func contentCut(x *Msg) bool { return x.M.SignedFault != "" && x.M.Signed == nil }

// present returns a need for a part that a cut body may have lost: part
// reports whether it is there.
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
	// content: the entity the certification parts are read from (the
	// signed content, or the body itself when unsigned) was found.
	needContent = then(always, "GEN-01", func(x *Msg) bool { return x.M.Content == nil })
	// wholeContent: the content was not cut short with the multipart/signed
	// (GEN-02 then has nothing of its own to report).
	needWholeContent = then(needContent, "GEN-01", contentCut)
	// mixed: the multipart/mixed of RFC 6109 §4.3 was read.
	needMixed = then(needContent, "GEN-02", func(x *Msg) bool { return len(x.M.Mixed) == 0 })
	// text: the human-readable first part (RFC 6109 §4.3.1).
	needText = then(needMixed, "GEN-03", func(x *Msg) bool { return x.M.Text == nil })
	// signed: a multipart/signed with a signature part (RFC 6109 §2.1).
	needSigned = then(always, "GEN-01", func(x *Msg) bool { return x.M.Signed == nil })
	// cms: the signature part parses as CMS SignedData (SIG-01).
	needCMS = then(needSigned, "SIG-01", func(x *Msg) bool { return x.signature().p7 == nil })
	// cert: the CMS carries the signer's certificate (SIG-03).
	needCert = then(needCMS, "SIG-03", func(x *Msg) bool { return x.signature().cert == nil })

	hasDaticert = present(func(x *Msg) bool { return x.M.Daticert != nil })
	hasOriginal = present(func(x *Msg) bool { return x.M.Original != nil })

	// daticertPart: there is a certification-data part (GEN-10).
	needDaticertPart = then(hasDaticert, "GEN-10", func(x *Msg) bool { return x.M.Daticert == nil })
	// daticert: the certification data was read (DAT-01 reads it).
	needDaticert = then(needDaticertPart, "DAT-01", func(x *Msg) bool { return x.dc == nil })
	// postacert: the envelope's original can be read (TRN-10 is the root).
	needPostacert = then(hasOriginal, "TRN-10", func(x *Msg) bool { return x.original() == nil })
	// received: the anomaly's received message can be read (ANO-04).
	needReceived = then(hasOriginal, "ANO-04", func(x *Msg) bool { return x.original() == nil })
)

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
