package smime_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pecspec/pecspec/internal/testpki"
	"github.com/pecspec/pecspec/pec/smime"
)

// testPKI makes a CA and a leaf with a software RSA key.
func testPKI(t *testing.T) (*x509.Certificate, *rsa.PrivateKey, *x509.Certificate, *x509.CertPool) {
	t.Helper()
	ca := testpki.NewCA(t)
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	return ca.Leaf(t, "Posta Certificata Test", key.Public(), "posta-certificata@pec.test"), key, ca.Cert, ca.Pool
}

const content = "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nciao\r\n--b--\r\n"

func TestSignVerify(t *testing.T) {
	leaf, key, ca, pool := testPKI(t)
	msg, err := smime.Sign([]smime.Field{{Name: "From", Value: "posta-certificata@pec.test"}, {Name: "Subject", Value: "x"}},
		[]byte(content), leaf, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _, err := smime.VerifyMessage(msg, pool, time.Now())
	if err != nil || !cert.Equal(leaf) {
		t.Fatalf("VerifyMessage = %v, %v", cert, err)
	}
	lf := bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n"))
	if _, _, err := smime.VerifyMessage(lf, pool, time.Now()); err != nil {
		t.Errorf("LF copy does not verify: %v", err)
	}
	tampered := bytes.Replace(msg, []byte("ciao"), []byte("ciaO"), 1)
	if _, _, err := smime.VerifyMessage(tampered, pool, time.Now()); !errors.Is(err, smime.ErrVerify) {
		t.Errorf("tampered: err = %v, want ErrVerify", err)
	}
	_, _, _, other := testPKI(t)
	if _, _, err := smime.VerifyMessage(msg, other, time.Now()); !errors.Is(err, smime.ErrVerify) {
		t.Errorf("untrusted: err = %v, want ErrVerify", err)
	}
	openssl(t, msg, tampered, ca)
}

// openssl checks the same message with an independent implementation.
func openssl(t *testing.T, good, bad []byte, ca *x509.Certificate) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}), 0o600)
	for name, msg := range map[string][]byte{"good": good, "bad": bad} {
		f := filepath.Join(dir, name+".eml")
		os.WriteFile(f, msg, 0o600)
		out, err := exec.Command("openssl", "smime", "-verify", "-in", f, "-CAfile", caFile, "-purpose", "any",
			"-out", os.DevNull).CombinedOutput()
		if (err == nil) != (name == "good") {
			t.Errorf("openssl smime -verify %s: err=%v\n%s", name, err, out)
		}
	}
}
