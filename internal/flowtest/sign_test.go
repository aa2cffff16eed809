package flowtest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/pec/hsm"
	"github.com/pecspec/pecspec/pec/smime"
	"github.com/pecspec/pecspec/reference/lab"
)

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }

func mxAddr(in *lab.Instance) string { return in.MXAddr() }

// signAs signs content under the outer header lines with the key in the named
// instance's token, as that provider would (the test crafts what a provider
// could send; the token is shared with the running instance, as PKCS#11
// allows).
func (h *harness) signAs(t testing.TB, name string, outer []string, content string) []byte {
	t.Helper()
	in := h.l.Provider(name)
	tok, err := hsm.Open(hsm.Config{SoftHSMConf: in.SoftHSMConf, TokenLabel: in.TokenLabel, PIN: in.PIN, Sessions: 1})
	if err != nil {
		t.Fatalf("token %s: %v", name, err)
	}
	defer tok.Close()
	key, err := tok.Signer(lab.KeyLabel)
	if err != nil {
		t.Fatal(err)
	}
	var fields []smime.Field
	for _, l := range outer {
		n, v, _ := strings.Cut(l, ": ")
		fields = append(fields, smime.Field{Name: n, Value: v})
	}
	msg, err := smime.Sign(fields, []byte(content), in.Cert, key)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// resign replaces old by repl inside a signed message's content and signs it
// again with the named instance's key, keeping the outer header.
func (h *harness) resign(t testing.TB, name string, raw []byte, old, repl string) []byte {
	t.Helper()
	m := pec.Parse(raw)
	if m.Signed == nil {
		t.Fatal("not a signed message")
	}
	content := bytes.Replace(m.Signed.Content.Raw, []byte(old), []byte(repl), 1)
	if bytes.Equal(content, m.Signed.Content.Raw) {
		t.Fatalf("%q not found in the signed content", old)
	}
	var outer []string
	for f := m.Outer.Header.Fields(); f.Next(); {
		switch strings.ToLower(f.Key()) {
		case "content-type", "mime-version", "received":
			continue
		}
		outer = append(outer, f.Key()+": "+f.Value())
	}
	return h.signAs(t, name, outer, string(content))
}

// plainMX sends ordinary mail without TLS, as many Internet servers still do.
func plainMX(addr, from string, rcpt []string, raw []byte) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.SendMail(from, rcpt, bytes.NewReader(raw))
}
