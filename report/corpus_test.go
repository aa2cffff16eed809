package report

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden verdict files")

// corpus is ../shared/corpus (read in place, never copied: pec-rules sources
// keep their licences).
const corpus = "../../shared/corpus"

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

// mustFailures on each corpus message, justified:
//   - real messages (aruba-*, sogei-2018): none. The Aruba 2014 certificate
//     violates RFC 6109 §5.5.2 (non-critical Key Usage, Basic Constraints), which
//     pec-rules A11 grades as a warning for DigitPA-era certificates (CRT-04, CRT-07).
//   - edited-accettazione and edited-mancata-consegna: the signature part was cut
//     (SIG-01…11 fail, "illegal base64"); the anonymisation replaced domains in
//     some places only, so text and XML disagree (GEN-18, DAT-19), msgid and
//     X-Riferimento-Message-ID differ (GEN-15, DAT-12) and the mancata consegna
//     names consegna rec@fakepec.it while destinatari says rec@pec.it (ERR-02);
//     a stray "a" after
//     </risposte> breaks the DTD (DAT-02).
//   - edited-sogei: content edited after signing, SIG-04 (digest mismatch).
var wantMust = map[string][]string{
	"edited-sogei-trasporto-altered-content.eml": {"SIG-04"},
	"edited-accettazione-anonymised.eml": {"DAT-19", "GEN-18", "SIG-01", "SIG-02", "SIG-03", "SIG-04", "SIG-05",
		"SIG-06", "SIG-08", "SIG-11"},
	"edited-mancata-consegna-anonymised.eml": {"DAT-02", "DAT-12", "ERR-02", "GEN-15", "SIG-01", "SIG-02", "SIG-03", "SIG-04",
		"SIG-05", "SIG-06", "SIG-08", "SIG-11"},
}

func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpus, "*.eml"))
	if len(files) == 0 {
		t.Skip("corpus not found at " + corpus)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if k := Classify(raw); string(k) != wantKind[name] {
				t.Errorf("Classify = %s, want %s", k, wantKind[name])
			}
			g := Grade(raw, Options{})
			var ids []string
			for _, v := range g.MustFailures() {
				ids = append(ids, v.Rule)
			}
			if got, want := strings.Join(ids, ","), strings.Join(wantMust[name], ","); got != want {
				t.Errorf("MUST failures %s, want %s", got, want)
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
