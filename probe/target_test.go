package probe

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pecspec/pecspec/pec"
)

const targetYAML = `name: alpha
provider_name: Reference Alpha
domains: [pec.alpha.test]
service_address: posta-certificata@pec.alpha.test
receipts_mailbox: {address: ricevute@pec.alpha.test, password: x}
submission: {host: 127.0.0.1, port: 10465, tls: implicit}
imap: {host: 127.0.0.1, port: 10993, tls: implicit}
mx: {host: 127.0.0.1, port: 10025, tls: starttls}
accounts: [{address: alice@pec.alpha.test, password: a}, {name: bobby, address: bob@pec.alpha.test, password: b}]
trust: ca.pem
`

func TestLoadTarget(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.yaml")
	os.WriteFile(path, []byte(targetYAML), 0o600)
	tg, err := LoadTarget(path)
	if err != nil {
		t.Fatal(err)
	}
	if tg.Path(tg.Trust) != filepath.Join(dir, "ca.pem") {
		t.Errorf("trust path %q not resolved against the file", tg.Path(tg.Trust))
	}
	if a, ok := tg.Account("alice"); !ok || a.Address != "alice@pec.alpha.test" {
		t.Errorf("Account(alice) = %+v %v", a, ok)
	}
	if _, ok := tg.Account("bobby"); !ok {
		t.Error("named account not found")
	}
	bad := strings.Replace(strings.Replace(targetYAML, "port: 10993", "port: 0", 1), "tls: starttls", "tls: maybe", 1)
	os.WriteFile(path, []byte(bad), 0o600)
	_, err = LoadTarget(path)
	if !errors.Is(err, ErrTarget) || !strings.Contains(err.Error(), "imap") || !strings.Contains(err.Error(), "maybe") {
		t.Errorf("invalid file: err = %v, want every problem reported", err)
	}
}

func TestEvidenceNames(t *testing.T) {
	e := &Evidence{Out: t.TempDir()}
	a, _ := e.Save("A certified message: È ok!", pec.KindAccettazione, []byte("x"))
	b, _ := e.Save("A certified message: È ok!", pec.KindTrasporto, []byte("y"))
	s, _ := e.SaveSent("A certified message: È ok!", []byte("z"))
	if a != "evidence/a-certified-message-ok/01-accettazione.eml" || b != "evidence/a-certified-message-ok/02-trasporto.eml" ||
		s != "evidence/a-certified-message-ok/sent-01.eml" {
		t.Errorf("names %q %q %q", a, b, s)
	}
	if got, _ := os.ReadFile(filepath.Join(e.Out, b)); string(got) != "y" {
		t.Errorf("content %q", got)
	}
}
