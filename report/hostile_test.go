package report

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pecspec/pecspec/pec"
)

// hostile are messages built to break parsers; each must get verdicts, not a panic.
func hostile() map[string][]byte {
	nested := "Content-Type: multipart/mixed; boundary=b0\r\n\r\n"
	for i := 1; i < 1000; i++ {
		nested += "--b" + strconv.Itoa(i-1) + "\r\nContent-Type: multipart/mixed; boundary=b" + strconv.Itoa(i) + "\r\n\r\n"
	}
	return map[string][]byte{
		"empty":         nil,
		"no-header-end": []byte("X-Ricevuta: accettazione"),
		"nested-1000":   []byte("X-Ricevuta: accettazione\r\n" + nested),
		"long-header":   append([]byte("X-Ricevuta: accettazione\r\nSubject: "), bytes.Repeat([]byte("A"), 8<<20)...),
		"broken-base64": []byte("X-Ricevuta: accettazione\r\nContent-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=x\r\n\r\n--x\r\nContent-Type: multipart/mixed; boundary=y\r\n\r\n--y\r\nContent-Type: text/plain\r\n\r\nt\r\n--y--\r\n--x\r\nContent-Type: application/pkcs7-signature\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!notbase64!!!\r\n--x--\r\n"),
		"invalid-utf8":  []byte("X-Trasporto: posta-certificata\r\nSubject: \xff\xfe\r\n\r\n\xc3\x28"),
		"contradictory": []byte("X-Ricevuta: accettazione\r\nX-Trasporto: errore\r\n\r\n"),
		"unknown-value": []byte("X-Ricevuta: mancata-consegna\r\n\r\n"),
	}
}

func TestHostileMessages(t *testing.T) {
	for name, raw := range hostile() {
		g := Grade(raw, Options{})
		if len(g.Verdicts) == 0 {
			t.Errorf("%s: no verdict", name)
		}
		for _, v := range g.Verdicts {
			if v.Status == Error && strings.Contains(v.Detail, "could not evaluate") {
				t.Errorf("%s: %s panicked: %s", name, v.Rule, v.Detail)
			}
		}
	}
	if k := Classify(hostile()["contradictory"]); k != "sconosciuto" {
		t.Errorf("contradictory markers classified %s, want sconosciuto", k)
	}
	if g := Grade(hostile()["unknown-value"], Options{}); g.Kind != "sconosciuto" || !failedRule(g, "GEN-12") {
		t.Errorf("unknown X-Ricevuta value: kind %s, GEN-12 failed=%v", g.Kind, failedRule(g, "GEN-12"))
	}
}

func failedRule(g Graded, id string) bool {
	for _, v := range g.Verdicts {
		if v.Rule == id && v.Status == Fail {
			return true
		}
	}
	return false
}

func FuzzGrade(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpusDir(), "*.eml"))
	for _, p := range files {
		if raw, err := os.ReadFile(p); err == nil {
			f.Add(raw)
		}
	}
	for _, raw := range hostile() {
		if len(raw) < 1<<16 {
			f.Add(raw)
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		g := Grade(raw, Options{})
		for _, v := range g.Verdicts {
			if v.Status == Error && strings.Contains(v.Detail, "could not evaluate") {
				t.Fatalf("%s panicked: %s", v.Rule, v.Detail)
			}
		}
		checkVerdicts(t, "fuzz", g)
	})
}

func FuzzDaticert(f *testing.F) {
	for _, doc := range daticertSamples {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if root, _, err := parseXML(data); err == nil {
			validateDaticert(root)
		}
		pec.ParseDaticert(bytes.NewReader(data))
	})
}

// BenchmarkGrade grades a real ~10 KB signed receipt (Aruba's avvenuta
// consegna completa, signature verification included).
func BenchmarkGrade(b *testing.B) { benchGrade(b, Options{}) }

// BenchmarkGradeWithRoots grades it with its roots: the SHA-1 chain to
// Baltimore CyberTrust Root verified by the grader's own check too.
func BenchmarkGradeWithRoots(b *testing.B) { benchGrade(b, corpusOpts(b)) }

func benchGrade(b *testing.B, opts Options) {
	raw, err := os.ReadFile(filepath.Join(corpusDir(), "aruba-2014-consegna-completa.eml"))
	if err != nil {
		b.Skip("corpus not found")
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			Grade(raw, opts)
		}
	})
}

// TestHostileDaticertAndSignatures: entity tricks in daticert.xml are never
// expanded (DAT-01 is an error: the grader cannot read what it will not
// expand; the DAT rules are not judged), a signed message with two signature
// parts and a 100 MB header line get verdicts, not a panic or a hang.
func TestHostileDaticertAndSignatures(t *testing.T) {
	w := fixtures(t)
	for name, x := range map[string]string{
		"xxe": `<?xml version="1.0"?><!DOCTYPE postacert [<!ENTITY x SYSTEM "file:///etc/passwd">]><postacert tipo="accettazione" errore="nessuno">&x;</postacert>`,
		"billion-laughs": `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
			`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><postacert tipo="accettazione" errore="nessuno">&lol3;</postacert>`,
	} {
		f := w.msg(A)
		f.dcRaw = x
		g := Grade(f.bytes(t), w.opts())
		if v, _ := verdict(g.Verdicts, "DAT-01"); v.Status != Error || !strings.Contains(v.Detail, "expands no entity") {
			t.Errorf("%s: DAT-01 %s: %s", name, v.Status, v.Detail)
		}
		if v, _ := verdict(g.Verdicts, "DAT-02"); v.Status != NA || v.Detail != "not judged: DAT-01 could not be decided" {
			t.Errorf("%s: DAT-02 %s: %s", name, v.Status, v.Detail)
		}
		if strings.Contains(strings.Join(verdictDetails(g), " "), "root:") {
			t.Errorf("%s: an entity was expanded", name)
		}
	}
	two := w.msg(A)
	raw := string(two.bytes(t))
	i := strings.LastIndex(raw, "--sig-b-")
	sigStart := strings.LastIndex(raw[:i-2], "--sig-b-")
	boundary := raw[i : i+strings.Index(raw[i:], "--\r\n")]
	doubled := raw[:i] + raw[sigStart:i] + boundary + "--\r\n"
	g := Grade([]byte(doubled), w.opts())
	if v, _ := verdict(g.Verdicts, "SIG-01"); v.Status == Pass {
		v4, _ := verdict(g.Verdicts, "GEN-01")
		t.Errorf("two signature parts: SIG-01 pass (%s), GEN-01 %s", v.Detail, v4.Status)
	}
	huge := append([]byte("X-Ricevuta: accettazione\r\nSubject: "), bytes.Repeat([]byte("A"), 100<<20)...)
	if g := Grade(huge, Options{}); len(g.Verdicts) == 0 {
		t.Error("100 MB header line: no verdict")
	}
}

func verdictDetails(g Graded) []string {
	var out []string
	for _, v := range g.Verdicts {
		out = append(out, v.Detail)
	}
	return out
}

// FuzzCMS feeds arbitrary bytes as the smime.p7s of an otherwise correct
// message: the CMS parse and verification give verdicts, never a panic.
func FuzzCMS(f *testing.F) {
	w := fixtures(f)
	good := string(w.msg(A).bytes(f))
	start := strings.Index(good, "filename=\"smime.p7s\"\r\n\r\n") + len("filename=\"smime.p7s\"\r\n\r\n")
	end := strings.LastIndex(good, "\r\n--sig-b-")
	der, _ := base64.StdEncoding.DecodeString(strings.ReplaceAll(good[start:end], "\r\n", ""))
	f.Add(der)
	f.Add([]byte{0x30, 0x80})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		msg := good[:start] + base64.StdEncoding.EncodeToString(data) + good[end:]
		g := Grade([]byte(msg), w.opts())
		for _, v := range g.Verdicts {
			if v.Status == Error && strings.Contains(v.Detail, "could not evaluate") {
				t.Fatalf("%s panicked: %s", v.Rule, v.Detail)
			}
		}
	})
}
