package pec_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/report"
)

// vocabulary maps every wire constant of pec/ to the grader's own entry for
// it (report.Wire, copied from pec-rules §2–§4). The reference composes with
// these constants; the grader never uses them: a wrong one here would make
// the reference wrong and the grader catch it, and this test says which.
var vocabulary = map[string]struct{ value, wire string }{
	"HeaderRicevuta":                  {pec.HeaderRicevuta, "header X-Ricevuta"},
	"HeaderTrasporto":                 {pec.HeaderTrasporto, "header X-Trasporto"},
	"HeaderVerificaSicurezza":         {pec.HeaderVerificaSicurezza, "header X-VerificaSicurezza"},
	"HeaderTipoRicevuta":              {pec.HeaderTipoRicevuta, "header X-TipoRicevuta"},
	"HeaderRiferimentoMsgID":          {pec.HeaderRiferimentoMsgID, "header X-Riferimento-Message-ID"},
	"HeaderMittente":                  {pec.HeaderMittente, "header X-Mittente"},
	"VerificaSicurezzaErrore":         {pec.VerificaSicurezzaErrore, "verifica errore"},
	"DaticertName":                    {pec.DaticertName, "name daticert"},
	"CertdataName":                    {pec.CertdataName, "name certdata"},
	"PostacertName":                   {pec.PostacertName, "name postacert"},
	"SignatureName":                   {pec.SignatureName, "name signature"},
	"PerContoDi":                      {pec.PerContoDi, "from per conto di"},
	"SignatureProtocol":               {pec.SignatureProtocol, "type signature"},
	"SignatureProtocolLegacy":         {pec.SignatureProtocolLegacy, "type signature legacy"},
	"SubjectAccettazione":             {pec.SubjectAccettazione, "subject accettazione"},
	"SubjectNonAccettazione":          {pec.SubjectNonAccettazione, "subject non-accettazione"},
	"SubjectNonAccettazioneVir":       {pec.SubjectNonAccettazioneVir, "subject non-accettazione virus"},
	"SubjectTrasporto":                {pec.SubjectTrasporto, "subject trasporto"},
	"SubjectPreavviso":                {pec.SubjectPreavviso, "subject preavviso-errore-consegna"},
	"SubjectPresaInCarico":            {pec.SubjectPresaInCarico, "subject presa-in-carico"},
	"SubjectAnomalia":                 {pec.SubjectAnomalia, "subject anomalia"},
	"SubjectRilevazioneVirus":         {pec.SubjectRilevazioneVirus, "subject rilevazione-virus"},
	"SubjectErroreConsegnaVir":        {pec.SubjectErroreConsegnaVir, "subject errore-consegna virus"},
	"SubjectAvvenutaConsegna":         {pec.SubjectAvvenutaConsegna, "subject avvenuta-consegna"},
	"SubjectErroreConsegna":           {pec.SubjectErroreConsegna, "subject errore-consegna"},
	"WordCertificata":                 {pec.WordCertificata, "text certificata"},
	"WordOrdinaria":                   {pec.WordOrdinaria, "text ordinaria"},
	"RicevutaAccettazione":            {string(pec.RicevutaAccettazione), "ricevuta accettazione"},
	"RicevutaNonAccettazione":         {string(pec.RicevutaNonAccettazione), "ricevuta non-accettazione"},
	"RicevutaPresaInCarico":           {string(pec.RicevutaPresaInCarico), "ricevuta presa-in-carico"},
	"RicevutaAvvenutaConsegna":        {string(pec.RicevutaAvvenutaConsegna), "ricevuta avvenuta-consegna"},
	"RicevutaErroreConsegna":          {string(pec.RicevutaErroreConsegna), "ricevuta errore-consegna"},
	"RicevutaPreavvisoErroreConsegna": {string(pec.RicevutaPreavvisoErroreConsegna), "ricevuta preavviso-errore-consegna"},
	"RicevutaRilevazioneVirus":        {string(pec.RicevutaRilevazioneVirus), "ricevuta rilevazione-virus"},
	"TrasportoPostaCertificata":       {string(pec.TrasportoPostaCertificata), "trasporto posta-certificata"},
	"TrasportoErrore":                 {string(pec.TrasportoErrore), "trasporto errore"},
	"TipoCompleta":                    {string(pec.TipoCompleta), "ricevuta-tipo completa"},
	"TipoBreve":                       {string(pec.TipoBreve), "ricevuta-tipo breve"},
	"TipoSintetica":                   {string(pec.TipoSintetica), "ricevuta-tipo sintetica"},
	"TipoAccettazione":                {string(pec.TipoAccettazione), "tipo accettazione"},
	"TipoNonAccettazione":             {string(pec.TipoNonAccettazione), "tipo non-accettazione"},
	"TipoPresaInCarico":               {string(pec.TipoPresaInCarico), "tipo presa-in-carico"},
	"TipoAvvenutaConsegna":            {string(pec.TipoAvvenutaConsegna), "tipo avvenuta-consegna"},
	"TipoPostaCertificata":            {string(pec.TipoPostaCertificata), "tipo posta-certificata"},
	"TipoErroreConsegna":              {string(pec.TipoErroreConsegna), "tipo errore-consegna"},
	"TipoPreavvisoErroreConsegna":     {string(pec.TipoPreavvisoErroreConsegna), "tipo preavviso-errore-consegna"},
	"TipoRilevazioneVirus":            {string(pec.TipoRilevazioneVirus), "tipo rilevazione-virus"},
	"ErroreNessuno":                   {string(pec.ErroreNessuno), "errore nessuno"},
	"ErroreNoDest":                    {string(pec.ErroreNoDest), "errore no-dest"},
	"ErroreNoDominio":                 {string(pec.ErroreNoDominio), "errore no-dominio"},
	"ErroreVirus":                     {string(pec.ErroreVirus), "errore virus"},
	"ErroreAltro":                     {string(pec.ErroreAltro), "errore altro"},
	"DestCertificato":                 {pec.DestCertificato, "destinatari certificato"},
	"DestEsterno":                     {pec.DestEsterno, "destinatari esterno"},
}

// notWire are the string constants of pec/ that are no wire string the
// grader checks: labels, local conventions, formats.
var notWire = map[string]bool{"ServiceLocalPart": true, "TextCharset": true, "LayoutGiorno": true, "LayoutOra": true,
	"LayoutZona": true, "KindAccettazione": true, "KindNonAccettazione": true, "KindPresaInCarico": true,
	"KindAvvenutaConsegna": true, "KindErroreConsegna": true, "KindPreavvisoErroreConsegna": true,
	"KindRilevazioneVirus": true, "KindTrasporto": true, "KindAnomalia": true, "KindOrdinaria": true, "KindSconosciuto": true}

// TestVocabularyMatchesGrader: each wire constant of pec/ equals the
// grader's entry, and every string constant of pec/ is either checked here
// or declared no wire string.
func TestVocabularyMatchesGrader(t *testing.T) {
	wire := report.Wire()
	for name, c := range vocabulary {
		if want, ok := wire[c.wire]; !ok || c.value != want {
			t.Errorf("pec.%s = %q, the grader's wire table (pec-rules) says %q for %q", name, c.value, want, c.wire)
		}
	}
	for _, name := range stringConstants(t) {
		if _, ok := vocabulary[name]; !ok && !notWire[name] {
			t.Errorf("pec.%s is checked against no wire string: add it to vocabulary or notWire", name)
		}
	}
}

// stringConstants lists the exported constants of pec/ with a string value.
func stringConstants(t *testing.T) []string {
	t.Helper()
	pkgs, err := parser.ParseDir(token.NewFileSet(), ".", func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.CONST {
					continue
				}
				for _, s := range g.Specs {
					vs := s.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if lit, ok := valueAt(vs, i).(*ast.BasicLit); ok && lit.Kind == token.STRING && n.IsExported() {
							out = append(out, n.Name)
						}
					}
				}
			}
		}
	}
	return out
}

func valueAt(vs *ast.ValueSpec, i int) ast.Expr {
	if i < len(vs.Values) {
		return vs.Values[i]
	}
	return nil
}

// TestWrongConstantIsCaught proves the check above bites: it builds pec/
// with SubjectPresaInCarico misspelt (a go build overlay, nothing on disk
// changes) and runs TestVocabularyMatchesGrader, which must fail naming it.
func TestWrongConstantIsCaught(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the package again")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("go not on PATH")
	}
	src, err := filepath.Abs("headers.go")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	right := `"PRESA IN CARICO: "`
	if !strings.Contains(string(data), right) {
		t.Fatalf("headers.go no longer holds %s", right)
	}
	dir := t.TempDir()
	wrong := filepath.Join(dir, "headers.go")
	overlay := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(wrong, []byte(strings.Replace(string(data), right, `"PRESA IN CARICO - "`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	o, _ := json.Marshal(map[string]map[string]string{"Replace": {src: wrong}})
	if err := os.WriteFile(overlay, o, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(goBin, "test", "-count=1", "-overlay", overlay, "-run", "^TestVocabularyMatchesGrader$", ".").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "pec.SubjectPresaInCarico") {
		t.Errorf("a wrong pec.SubjectPresaInCarico was not caught (err %v):\n%s", err, out)
	}
}
