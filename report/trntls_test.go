package report

import (
	"strings"
	"testing"
)

// TestTRN16BetweenProviders: TLS is required between providers only (RFC
// 6109 §5.3): a hop inside one provider is not judged, a same-domain
// transaction is not judged, and the verdict names the hops it judged.
func TestTRN16BetweenProviders(t *testing.T) {
	w := fixtures(t)
	hop := func(s string) edit {
		return func(w *world, f *fx) { f.hdr = append([]field{{"Received", s + "; " + dateHeader(w.t0)}}, f.hdr...) }
	}
	for name, tc := range map[string]struct {
		edit   edit
		want   Status
		detail string
	}{
		"between providers": {nil, Pass, "pec.alpha.test → pec.beta.test (esmtps)"},
		"internal hop without TLS": {hop("from smtps.pec.beta.test (localhost [127.0.0.1]) by mx.pec.beta.test with ESMTP"),
			Pass, "1 internal not judged"},
		"same organisation without TLS": {hop("from smtps.pec.beta.test ([10.0.0.2]) by mx.pec.beta.test with ESMTP"), Pass, "internal not judged"},
		"lmtp delivery":                 {hop("from mx.pec.beta.test by store.pec.beta.test (lmtpd) with LMTP id 4825"), Pass, "internal"},
		"between providers without TLS": {hop("from mx.pec.alpha.test ([192.0.2.7]) by mx.pec.gamma.test with ESMTP"), Fail, "mx.pec.alpha.test → mx.pec.gamma.test (esmtp) without TLS"},
		"postfix using TLS":             {hop("from mx.pec.alpha.test ([192.0.2.7]) (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384) by mx.pec.gamma.test (Postfix) with ESMTP"), Pass, "2 hop(s)"},
		"same domain": {func(w *world, f *fx) {
			f.orig = []byte(strings.ReplaceAll(string(f.orig), w.rcpt, "carol@pec.alpha.test"))
			f.set("To", "carol@pec.alpha.test")
			f.dc.dest[0].addr = "carol@pec.alpha.test"
		}, NA, "same-domain transaction (pec.alpha.test)"},
	} {
		f := w.msg(T)
		if tc.edit != nil {
			tc.edit(w, f)
		}
		v := verdictOf(t, Grade(f.bytes(t), w.opts()), "TRN-16")
		if v.Status != tc.want || !strings.Contains(v.Detail, tc.detail) {
			t.Errorf("%s: TRN-16 %s: %s", name, v.Status, v.Detail)
		}
	}
}

func TestOrgDomain(t *testing.T) {
	for host, want := range map[string]string{
		"mx.pec.aruba.it": "aruba.it", "smtps.pec.aruba.it": "aruba.it", "pec.alpha.test": "alpha.test",
		"mail.example.co.uk": "example.co.uk", "[127.0.0.1]": "", "localhost": "", "192.0.2.1": "",
	} {
		if got := orgDomain(host); got != want {
			t.Errorf("orgDomain(%q) = %q, want %q", host, got, want)
		}
	}
}
