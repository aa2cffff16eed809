// Package report is the grader: an independent oracle that reads the raw
// bytes of a message and the rule catalogue of pec-rules §9 and gives one
// verdict per applicable rule, each naming its rule ID, level and section
// (DESIGN.md rules 2 and 7). It never builds an "expected" message with
// reference code and takes no wire string from pec/: it states them in its
// own table (wire.go) and reads daticert.xml with its own XML reader. It
// imports pec/ only for the MIME model, parses CMS with smallstep/pkcs7 and
// checks the signature and the certificate chain itself (cms.go, chain.go).
package report

import (
	"crypto/x509"
	"fmt"

	"github.com/pecspec/pecspec/pec"
)

// Level is a rule's requirement level (pec-rules §9 "Lvl").
type Level string

// Levels.
const (
	Must     Level = "MUST"
	Should   Level = "SHOULD"
	Observed Level = "OBSERVED"
)

// Status is a verdict's outcome (STYLE 12).
type Status string

// Statuses: fail only for a violated MUST; warn for SHOULD, observed practice
// and accepted deviations (pec-rules §10); na with a reason; error when the
// grader could not decide (never the provider's fault); unknown when the
// signer's chain leads to an issuer that is not among the trust anchors the
// grader was given (SIG-05): not a failed chain, and not a pass either.
const (
	Pass    Status = "pass"
	Fail    Status = "fail"
	Warn    Status = "warn"
	NA      Status = "na"
	Error   Status = "error"
	Unknown Status = "unknown"
)

// Verdict is one rule applied to one message or one transaction.
type Verdict struct {
	Rule    string `json:"rule"`
	Level   Level  `json:"level"`
	Section string `json:"section"`
	Status  Status `json:"status"`
	Detail  string `json:"detail"`
}

// Options configure grading.
type Options struct {
	// Trust holds the CAs signer certificates must chain to (SIG-05). With
	// neither Trust, Anchors nor Index the chain rule is an error ("no trust
	// anchors") unless NoTrust is set: a forged signature never passes by
	// default.
	Trust *x509.CertPool
	// Anchors are the certificates of Trust when the caller has them
	// (LoadTrust): the grader's own check of SHA-1-signed chains (DigitPA
	// era, pec-rules A11/A18) needs the anchor itself, which a CertPool does
	// not give back. They are trust anchors on their own too.
	Anchors []*x509.Certificate
	// NoTrust says the caller chose not to verify chains: SIG-05 is na,
	// saying so, instead of an error.
	NoTrust bool
	// Index is the index of PEC providers the infra rules (SIG-09, SIG-10,
	// CRT-01, ACC-05, PIC-02, VIR-02) judge against; nil makes them na.
	Index *Index
	// CRLs are the revocation lists SIG-07 judges against; none makes it na.
	CRLs []*x509.RevocationList
	// Strict makes warnings count as failures.
	Strict bool
}

// Graded is the verdicts of one message.
type Graded struct {
	File     string    `json:"file"`
	Kind     pec.Kind  `json:"kind"`
	Verdicts []Verdict `json:"verdicts"`
}

// Undecided returns the verdicts the grader could not decide: error, and
// unknown (a chain to an issuer outside the anchors). They are no finding
// against the provider, and no pass either.
func (g Graded) Undecided() []Verdict { return undecided(g.Verdicts) }

func undecided(vs []Verdict) []Verdict {
	var out []Verdict
	for _, v := range vs {
		if v.Status == Error || v.Status == Unknown {
			out = append(out, v)
		}
	}
	return out
}

// MustFailures returns the failed verdicts (and, under Strict grading, the
// warnings too, which Grade then records as failures).
func (g Graded) MustFailures() []Verdict { return mustFailures(g.Verdicts) }

func mustFailures(vs []Verdict) []Verdict {
	var out []Verdict
	for _, v := range vs {
		if v.Status == Fail {
			out = append(out, v)
		}
	}
	return out
}

// Counts tallies verdicts by status.
func Counts(vs []Verdict) map[Status]int {
	c := map[Status]int{}
	for _, v := range vs {
		c[v.Status]++
	}
	return c
}

// outcome is what a check returns: a status and a one-line detail.
type outcome struct {
	status Status
	detail string
}

func pass(format string, a ...any) outcome { return outcome{Pass, fmt.Sprintf(format, a...)} }
func fail(format string, a ...any) outcome { return outcome{Fail, fmt.Sprintf(format, a...)} }
func warn(format string, a ...any) outcome { return outcome{Warn, fmt.Sprintf(format, a...)} }
func na(format string, a ...any) outcome   { return outcome{NA, fmt.Sprintf(format, a...)} }
func errored(format string, a ...any) outcome {
	return outcome{Error, fmt.Sprintf(format, a...)}
}

// violated is fail for a MUST rule and warn for a SHOULD or observed one.
func violated(l Level, format string, a ...any) outcome {
	if l == Must {
		return fail(format, a...)
	}
	return warn(format, a...)
}
