package report

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pecspec/pecspec/pec"
)

const validDaticert = `<?xml version="1.0" encoding="UTF-8"?>
<postacert tipo="avvenuta-consegna" errore="nessuno">
  <intestazione>
    <mittente>a@pec.alpha.test</mittente>
    <destinatari tipo="certificato">b@pec.beta.test</destinatari>
    <destinatari>c@example.org</destinatari>
    <risposte>a@pec.alpha.test</risposte>
    <oggetto>Prova</oggetto>
  </intestazione>
  <dati>
    <gestore-emittente>Reference Beta</gestore-emittente>
    <data zona="+0100"><giorno>15/11/2026</giorno><ora>18:20:38</ora></data>
    <identificativo>opec1@pec.alpha.test</identificativo>
    <msgid>&lt;x@client&gt;</msgid>
    <ricevuta tipo="completa"/>
    <consegna>b@pec.beta.test</consegna>
  </dati>
</postacert>
`

// daticertSamples are valid and invalid documents; the Go validator and
// xmllint --dtdvalid must agree on each.
var daticertSamples = map[string]string{
	"valid": validDaticert,
	"valid-minimal": `<postacert tipo="accettazione"><intestazione><mittente>a@x</mittente><destinatari>b@y</destinatari>` +
		`<risposte>a@x</risposte></intestazione><dati><gestore-emittente>G</gestore-emittente><data zona="+0100">` +
		`<giorno>01/01/2026</giorno><ora>00:00:00</ora></data><identificativo>i@x</identificativo></dati></postacert>`,
	"valid-ricezioni":           strings.Replace(validDaticert, "<consegna>b@pec.beta.test</consegna>", "<ricezione>b@y</ricezione><ricezione>c@y</ricezione>", 1),
	"wrong-order":               strings.Replace(validDaticert, "<ricevuta tipo=\"completa\"/>\n    <consegna>b@pec.beta.test</consegna>", "<consegna>b@pec.beta.test</consegna><ricevuta tipo=\"completa\"/>", 1),
	"missing-required":          strings.Replace(validDaticert, ` tipo="avvenuta-consegna"`, "", 1),
	"bad-tipo-enum":             strings.Replace(validDaticert, `tipo="avvenuta-consegna"`, `tipo="mancata-consegna"`, 1),
	"bad-errore-enum":           strings.Replace(validDaticert, `errore="nessuno"`, `errore="none"`, 1),
	"bad-destinatari-tipo":      strings.Replace(validDaticert, `tipo="certificato"`, `tipo="pec"`, 1),
	"unknown-element":           strings.Replace(validDaticert, "<oggetto>", "<priorita>alta</priorita><oggetto>", 1),
	"missing-intestazione":      strings.Replace(validDaticert, validDaticert[strings.Index(validDaticert, "<intestazione>"):strings.Index(validDaticert, "<dati>")], "", 1),
	"two-ricevuta":              strings.Replace(validDaticert, `<ricevuta tipo="completa"/>`, `<ricevuta tipo="completa"/><ricevuta tipo="breve"/>`, 1),
	"ricevuta-no-tipo":          strings.Replace(validDaticert, `<ricevuta tipo="completa"/>`, `<ricevuta/>`, 1),
	"no-destinatari":            strings.Replace(strings.Replace(validDaticert, "<destinatari tipo=\"certificato\">b@pec.beta.test</destinatari>", "", 1), "<destinatari>c@example.org</destinatari>", "", 1),
	"text-in-intestazione":      strings.Replace(validDaticert, "</risposte>", "</risposte>a", 1),
	"data-without-zona":         strings.Replace(validDaticert, ` zona="+0100"`, "", 1),
	"undeclared-attr":           strings.Replace(validDaticert, `<mittente>`, `<mittente lang="it">`, 1),
	"element-in-pcdata":         strings.Replace(validDaticert, "<oggetto>Prova</oggetto>", "<oggetto><b>Prova</b></oggetto>", 1),
	"space-in-empty":            strings.Replace(validDaticert, `<ricevuta tipo="completa"/>`, `<ricevuta tipo="completa"> </ricevuta>`, 1),
	"comment-in-empty":          strings.Replace(validDaticert, `<ricevuta tipo="completa"/>`, `<ricevuta tipo="completa"><!-- c --></ricevuta>`, 1),
	"cdata-in-elements":         strings.Replace(validDaticert, "<consegna>", "<![CDATA[ ]]><consegna>", 1),
	"valid-comment-in-elements": strings.Replace(validDaticert, "<consegna>", "<!-- c --><consegna>", 1),
	"valid-cdata-in-pcdata":     strings.Replace(validDaticert, "<oggetto>Prova</oggetto>", "<oggetto><![CDATA[Prova <b>]]></oggetto>", 1),
	"valid-bom":                 "\xef\xbb\xbf" + validDaticert,
	"valid-doctype":             strings.Replace(validDaticert, "?>\n", "?>\n<!DOCTYPE postacert SYSTEM \"daticert.dtd\">\n", 1),
	"enum-spaces":               strings.Replace(validDaticert, `tipo="certificato"`, `tipo=" certificato "`, 1),
}

func TestDTDAgreesWithXmllint(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatal("xmllint not installed (libxml2-utils, make setup)")
	}
	dir := t.TempDir()
	dtd := filepath.Join(dir, "daticert.dtd")
	if err := os.WriteFile(dtd, pec.DTD, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, doc := range daticertSamples {
		f := filepath.Join(dir, name+".xml")
		os.WriteFile(f, []byte(doc), 0o600)
		out, err := exec.Command(xmllint, "--noout", "--dtdvalid", dtd, f).CombinedOutput()
		lintValid := err == nil
		root, _, perr := parseXML([]byte(doc))
		var errs []string
		if perr == nil {
			errs = validateDaticert(root)
		}
		goValid := perr == nil && len(errs) == 0
		if goValid != lintValid {
			t.Errorf("%s: Go valid=%v %v %v, xmllint valid=%v\n%s", name, goValid, perr, errs, lintValid, out)
		}
		if wantValid := strings.HasPrefix(name, "valid"); goValid != wantValid {
			t.Errorf("%s: valid=%v, want %v", name, goValid, wantValid)
		}
	}
}

// TestHostileXML: entity references are never expanded (XXE, billion
// laughs): a declared one is errEntity, an undeclared one not well-formed;
// other breakage is not well-formed, never a crash.
func TestHostileXML(t *testing.T) {
	for name, tc := range map[string]struct {
		doc  string
		want error
	}{
		"xxe":          {`<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><postacert>&x;</postacert>`, errEntity},
		"laughs":       {`<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><postacert>&b;</postacert>`, errEntity},
		"undeclared":   {`<postacert>&x;</postacert>`, errXML},
		"invalid-utf8": {"<postacert>\xff\xfe</postacert>", errXML},
		"deep":         {strings.Repeat("<a>", 10000) + strings.Repeat("</a>", 10000), errXML},
		"two-roots":    {"<postacert/><postacert/>", errXML},
		"windows-1252": {"<?xml version=\"1.0\" encoding=\"windows-1252\"?><postacert>\x80</postacert>", errXML},
		"decl-inside":  {"<postacert><!ELEMENT a EMPTY></postacert>", errXML},
	} {
		if _, _, err := parseXML([]byte(tc.doc)); !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", name, err, tc.want)
		}
	}
}

// TestXMLProlog: a byte order mark, a DOCTYPE (SYSTEM identifier or an
// internal subset, never loaded) and a declared ISO-8859-1 are XML 1.0 that
// the grader reads; DAT-01 passes the first two and fails the third for not
// being UTF-8, as RFC 6109 §4.3.3 requires, not for being ill-formed.
func TestXMLProlog(t *testing.T) {
	body := validDaticert[strings.Index(validDaticert, "<postacert"):]
	for name, tc := range map[string]struct {
		doc      string
		utf8     bool
		bom, dtd bool
	}{
		"bom":     {"\xef\xbb\xbf" + validDaticert, true, true, false},
		"system":  {`<?xml version="1.0"?>` + "\n" + `<!DOCTYPE postacert SYSTEM "daticert.dtd">` + "\n" + body, true, false, true},
		"subset":  {`<?xml version="1.0"?><!DOCTYPE postacert [<!ELEMENT foo EMPTY><!ATTLIST foo a CDATA #IMPLIED>]>` + body, true, false, true},
		"latin1":  {`<?xml version="1.0" encoding="ISO-8859-1"?>` + strings.Replace(body, "Prova", "Prova \xe8", 1), false, false, false},
		"declutf": {`<?xml version="1.0" encoding="utf-8"?>` + body, true, false, false},
	} {
		root, info, err := parseXML([]byte(tc.doc))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if info.utf8() != tc.utf8 || info.bom != tc.bom || info.doctype != tc.dtd {
			t.Errorf("%s: info %+v", name, info)
		}
		if errs := validateDaticert(root); len(errs) > 0 {
			t.Errorf("%s: not valid: %v", name, errs)
		}
		if name == "latin1" && readCertData(root).Oggetto == nil || name == "latin1" && *readCertData(root).Oggetto != "Prova è" {
			t.Errorf("latin1: oggetto %v", readCertData(root).Oggetto)
		}
	}
}

// TestDaticertEncoding: a daticert declared ISO-8859-1 fails DAT-01 for not
// being UTF-8, not for being ill-formed; its content is still read, so the
// other DAT rules judge it.
func TestDaticertEncoding(t *testing.T) {
	w := fixtures(t)
	f := w.msg(A)
	f.dcRaw = strings.Replace(f.dc.xml(), `encoding="UTF-8"`, `encoding="ISO-8859-1"`, 1)
	g := Grade(f.bytes(t), w.opts())
	if v := verdictOf(t, g, "DAT-01"); v.Status != Fail || !strings.Contains(v.Detail, "requires UTF-8") || strings.Contains(v.Detail, "not well-formed") {
		t.Errorf("DAT-01 %s: %s", v.Status, v.Detail)
	}
	for _, id := range []string{"DAT-02", "DAT-03", "ACC-06"} {
		if v := verdictOf(t, g, id); v.Status != Pass {
			t.Errorf("%s %s: %s", id, v.Status, v.Detail)
		}
	}
}
