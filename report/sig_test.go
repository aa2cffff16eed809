package report

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSignatureAgreesWithOpenSSL: SIG-04 says what `openssl smime -verify
// -noverify` says of the same message: a correct signature, content edited
// after signing (a digest mismatch, SIG-04's finding), and a CMS that
// encapsulates its content, which openssl verifies and which is SIG-02's
// finding, not SIG-04's.
func TestSignatureAgreesWithOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl not installed (make setup)")
	}
	w := fixtures(t)
	attached := w.msg(A)
	attached.attach = true
	edited := w.msg(A)
	edited.after = func(b []byte) []byte { return []byte(strings.Replace(string(b), "dal sistema", "dal sistemA", 1)) }
	sha1 := w.msg(T)
	sha1.sha1 = true
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		f          *fx
		sig02      Status
		sig04      Status
		opensslOK  bool
		detailWant string
	}{
		"correct":  {w.msg(C), Pass, Pass, true, "verifies"},
		"sha1":     {sha1, Pass, Pass, true, "verifies"},
		"attached": {attached, Fail, Pass, true, "encapsulates"},
		"edited":   {edited, Pass, Fail, false, "message digest mismatch"},
	} {
		raw := tc.f.bytes(t)
		g := Grade(raw, w.opts())
		v2, v4 := verdictOf(t, g, "SIG-02"), verdictOf(t, g, "SIG-04")
		if v2.Status != tc.sig02 || v4.Status != tc.sig04 || !strings.Contains(v2.Detail+" "+v4.Detail, tc.detailWant) {
			t.Errorf("%s: SIG-02 %s (%s), SIG-04 %s (%s)", name, v2.Status, v2.Detail, v4.Status, v4.Detail)
		}
		file := filepath.Join(dir, name+".eml")
		if err := os.WriteFile(file, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(openssl, "smime", "-verify", "-noverify", "-in", file, "-out", os.DevNull).CombinedOutput()
		if (err == nil) != tc.opensslOK {
			t.Errorf("%s: openssl verified=%v, want %v:\n%s", name, err == nil, tc.opensslOK, out)
		}
	}
}

// TestObservedRulesOnlyWarn: an observed rule whose check fails or errs is
// a warning or na, never a failure or an error; a detail is capped with its
// length.
func TestObservedRulesOnlyWarn(t *testing.T) {
	obs := Rule{ID: "SIG-12", Level: Observed}
	for _, o := range []outcome{fail("x"), errored("y"), {Unknown, "z"}} {
		if v := run(obs, func() outcome { return o }, Options{}); v.Status == Fail || v.Status == Error || v.Status == Unknown {
			t.Errorf("observed %s gave %s", o.status, v.Status)
		}
	}
	if v := run(Rule{ID: "GEN-14", Level: Must}, func() outcome { return fail("%s", strings.Repeat("è", 5000)) }, Options{}); !strings.HasSuffix(v.Detail, "… (5000 characters)") ||
		len([]rune(v.Detail)) > maxDetail+30 {
		t.Errorf("uncapped detail of %d characters", len([]rune(v.Detail)))
	}
	if v := run(Rule{ID: "GEN-14", Level: Must}, func() outcome { return pass("") }, Options{}); v.Detail == "" {
		t.Error("empty detail")
	}
	huge := w50MBSubject(t)
	for _, v := range Grade(huge, Options{NoTrust: true}).Verdicts {
		if len(v.Detail) > 4*maxDetail+40 {
			t.Errorf("%s echoes %d bytes", v.Rule, len(v.Detail))
		}
	}
}

// w50MBSubject is an accettazione whose Subject is 50 MB long.
func w50MBSubject(t *testing.T) []byte {
	w := fixtures(t)
	f := w.msg(A)
	f.set("Subject", "ACCETTAZIONE: "+strings.Repeat("A", 50<<20))
	return f.bytes(t)
}
