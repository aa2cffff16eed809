package scenarios

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/report"
)

// registerIndexSteps binds the steps that grade the target's record in the
// index of PEC providers and its published signed LDIF (RFC 6109 §4.5; IDX
// rules of pec-rules §9).
func registerIndexSteps(sc stepRegistrar) {
	sc.Step(`^the target's record in the index passes the IDX rules$`, indexEntryPasses)
	sc.Step(`^the target's signed LDIF passes the IDX rules$`, signedLDIFPasses)
}

// Pseudo-kinds under which the index verdicts appear in the reports.
const (
	kindIndexEntry pec.Kind = "index-entry"
	kindSignedLDIF pec.Kind = "signed-ldif"
)

func (w *World) index() (*report.Index, error) {
	t := w.r.opts.Target
	if t.LDAPURL == "" {
		return nil, harnessf("the target file names no ldap_url for the index")
	}
	ix, err := report.LoadIndex(t.LDAPURL)
	if err != nil {
		return nil, harnessf("the index at %s: %w", t.LDAPURL, err)
	}
	return ix, nil
}

// indexEntryPasses grades the target's records (IDX-01…08, 11, 12): the
// domains of its test accounts are the sender domains IDX-12 checks.
func indexEntryPasses(ctx context.Context) error {
	w := world(ctx)
	ix, err := w.index()
	if err != nil {
		return err
	}
	t := w.r.opts.Target
	var domains []string
	for _, a := range t.Accounts {
		if _, d, ok := strings.Cut(a.Address, "@"); ok && !containsFold(domains, d) {
			domains = append(domains, d)
		}
	}
	var ldif strings.Builder
	for _, p := range ix.Providers {
		if strings.EqualFold(p.Name, t.ProviderName) {
			writeRecord(&ldif, p)
		}
	}
	return w.gradeIndex(kindIndexEntry, "index-entry.ldif", t.LDAPURL, []byte(ldif.String()),
		report.GradeIndexEntry(ix, t.ProviderName, domains))
}

// signedLDIFPasses grades the LDIF the target publishes (IDX-09, IDX-10).
func signedLDIFPasses(ctx context.Context) error {
	w := world(ctx)
	t := w.r.opts.Target
	if t.LDIF == "" {
		return &ruleError{rule: "IDX-09", err: fmt.Errorf("the target publishes no signed LDIF (no ldif in the target file)")}
	}
	data, err := w.fetch(ctx, t.LDIF)
	if isHarness(err) {
		return err // more than the harness reads: not the target's publication judged
	}
	if err != nil {
		return &ruleError{rule: "IDX-09", err: fmt.Errorf("the target's signed LDIF %s: %w", t.LDIF, err)}
	}
	ix, err := w.index()
	if err != nil {
		return err
	}
	return w.gradeIndex(kindSignedLDIF, "published.ldif.p7m", t.LDIF, data, report.GradeSignedLDIF(data, ix, t.ProviderName, w.r.trust))
}

// fetch reads the published LDIF from a file or an https URL.
func (w *World) fetch(ctx context.Context, src string) ([]byte, error) {
	if !strings.HasPrefix(src, "https://") {
		return os.ReadFile(w.r.opts.Target.Path(src))
	}
	ctx, cancel := context.WithTimeout(ctx, w.r.opts.StepTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, err
	}
	resp, err := targetHTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &ruleError{rule: "IDX-09", err: fmt.Errorf("GET %s: %s", src, resp.Status)}
	}
	return readBody(resp.Body, report.MaxLDIF, "GET "+src)
}

// gradeIndex keeps what was judged as evidence and records its verdicts
// like a captured message's.
func (w *World) gradeIndex(kind pec.Kind, name, source string, data []byte, vs []report.Verdict) error {
	rel, err := w.r.evidence.SaveFile(w.res.Name, name, data)
	if err != nil {
		rel = "(not saved: " + err.Error() + ")"
	}
	w.res.Messages = append(w.res.Messages, MessageResult{File: rel, Kind: kind, Mailbox: source, Verdicts: vs})
	var lines []string
	for _, v := range mustOf(vs) {
		lines = append(lines, fmt.Sprintf("%s [%s]: %s", v.Rule, v.Section, v.Detail))
	}
	return failures(lines)
}

// writeRecord renders an index record as LDIF text for the evidence.
func writeRecord(b *strings.Builder, p report.IndexProvider) {
	b.WriteString("dn: " + p.DN + "\n")
	for name, vals := range p.Attrs {
		if name == "dn" {
			continue
		}
		for _, v := range vals {
			if name == "providercertificate" {
				v = fmt.Sprintf("(%d bytes of DER)", len(v))
			}
			b.WriteString(name + ": " + v + "\n")
		}
	}
	b.WriteString("\n")
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
