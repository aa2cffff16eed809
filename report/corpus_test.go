package report

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden verdict files")

// corpusDir finds the shared corpus of real PEC messages (read in place,
// never copied: its files keep their licences): a shared/corpus folder in
// this directory's ancestors, "" when there is none.
func corpusDir() string {
	dir, err := filepath.Abs(".")
	for err == nil {
		c := filepath.Join(dir, "shared", "corpus")
		if st, e := os.Stat(c); e == nil && st.IsDir() {
			return c
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return ""
}

// corpusFiles lists the corpus messages, skipping the test without them.
func corpusFiles(tb testing.TB) []string {
	tb.Helper()
	files, _ := filepath.Glob(filepath.Join(corpusDir(), "*.eml"))
	if len(files) == 0 {
		tb.Skip("corpus not found (a shared/corpus folder above the repository)")
	}
	return files
}

// wantKind is the classification of every corpus message.
var wantKind = map[string]string{
	"aruba-2014-accettazione.eml":                A,
	"aruba-2014-consegna-completa.eml":           C,
	"aruba-2014-trasporto-1.eml":                 T,
	"aruba-2014-trasporto-2.eml":                 T,
	"sogei-2018-trasporto.eml":                   T,
	"edited-sogei-trasporto-altered-content.eml": T,
	"edited-accettazione-anonymised.eml":         A,
	"edited-mancata-consegna-anonymised.eml":     E,
}

// justified is every MUST failure the grader finds on the corpus, each with
// the hand check against pec-rules that makes it true. The real messages
// (aruba-*, sogei-2018) have none: the Aruba 2014 certificate's deviations
// from RFC 6109 §5.5.2 are DigitPA-era warnings (pec-rules A11, CRT-04,
// CRT-07) and its SHA-1 chain verifies (SIG-05, warned by SIG-12).
var justified = map[string]map[string]string{
	"edited-accettazione-anonymised.eml": {
		"SIG-01": "the smime.p7s part was cut by the anonymisation: its base64 is not valid from byte 3, no CMS (RFC 6109 §2.1)",
		"GEN-18": "the text's identificativo ends @pec.fakepec.it, daticert's @fakepec.it: the anonymisation replaced domains in one place only",
	},
	"edited-mancata-consegna-anonymised.eml": {
		"SIG-01": "the smime.p7s part was cut by the anonymisation: its base64 is not valid from byte 3, no CMS (RFC 6109 §2.1)",
		"DAT-02": `a stray "a" after </risposte> is text in element-only content (xmllint --dtdvalid says the same)`,
		"DAT-12": "daticert msgid ends @fakepec.it, X-Riferimento-Message-ID @pec.it (anonymisation): they must be equal (RFC 6109 §2.2.1)",
		"ERR-02": "consegna is rec@fakepec.it, destinatari lists rec@pec.it only (anonymisation): consegna must be the recipient (RFC 6109 §4.4)",
	},
	"edited-sogei-trasporto-altered-content.eml": {
		"SIG-04": "the content was edited after signing: the messageDigest attribute does not match (openssl smime -verify: digest failure)",
	},
}

// corpusOpts grade with the roots the corpus chains to (Baltimore CyberTrust
// Root for DigitPA CA1, Actalis Authentication Root CA for AgID CA1, from
// Debian's ca-certificates; testdata/roots).
func corpusOpts(tb testing.TB) Options {
	tb.Helper()
	var opts Options
	for _, f := range []string{"baltimore-cybertrust-root.pem", "actalis-authentication-root-ca.pem"} {
		pool, certs, err := LoadTrust(filepath.Join("testdata", "roots", f))
		if err != nil {
			tb.Fatal(err)
		}
		if opts.Trust == nil {
			opts.Trust = pool
		} else {
			opts.Trust.AddCert(certs[0])
		}
		opts.Anchors = append(opts.Anchors, certs...)
	}
	return opts
}

// TestCorpus grades every real message with its roots: the kind, the MUST
// failures (each justified, none unjustified, no justification stale), no
// undecided verdict, and the verdicts against the golden files.
func TestCorpus(t *testing.T) {
	opts := corpusOpts(t)
	for _, f := range corpusFiles(t) {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if k := Classify(raw); string(k) != wantKind[name] {
				t.Errorf("Classify = %s, want %s", k, wantKind[name])
			}
			g := Grade(raw, opts)
			var ids []string
			for _, v := range g.MustFailures() {
				ids = append(ids, v.Rule)
				if justified[name][v.Rule] == "" {
					t.Errorf("unjustified MUST failure %s: %s", v.Rule, v.Detail)
				}
			}
			for id := range justified[name] {
				if !slices.Contains(ids, id) {
					t.Errorf("%s is justified but does not fail: remove it from justified", id)
				}
			}
			for _, v := range g.Undecided() {
				t.Errorf("undecided %s %s: %s", v.Rule, v.Status, v.Detail)
			}
			golden(t, name, g)
		})
	}
}

// golden compares the verdicts with testdata/golden/<name>.json (-update rewrites).
func golden(t *testing.T, name string, g Graded) {
	g.File = name
	got, _ := json.MarshalIndent(g, "", "  ")
	path := filepath.Join("testdata", "golden", strings.TrimSuffix(name, ".eml")+".json")
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file: %v (run go test ./report -run TestCorpus -update)", err)
	}
	if strings.TrimSpace(string(want)) != strings.TrimSpace(string(got)) {
		t.Errorf("verdicts differ from %s (go test ./report -run TestCorpus -update to accept):\n%s", path, got)
	}
}
