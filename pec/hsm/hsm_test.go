package hsm_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/pecspec/pecspec/pec/hsm"
)

// newToken makes a private SoftHSM2 token in a temporary directory.
func newToken(t *testing.T, label string) hsm.Config {
	t.Helper()
	conf, err := hsm.WriteSoftHSMConf(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := hsm.InitSoftHSMToken(conf, label, "87654321", "1234"); err != nil {
		t.Fatalf("SoftHSM2 not usable (make setup): %v", err)
	}
	return hsm.Config{SoftHSMConf: conf, TokenLabel: label, PIN: "1234", Sessions: 2}
}

func TestGenerateSignStore(t *testing.T) {
	cfg := newToken(t, "alpha")
	tok, err := hsm.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	key, err := tok.GenerateRSAKey("pec-signing", 2048)
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := tok.KeyAttributes("pec-signing")
	if err != nil {
		t.Fatal(err)
	}
	if attrs.Extractable || !attrs.Sensitive || !attrs.Local || !attrs.NeverExtractable {
		t.Errorf("key attributes %+v: want a sensitive, never extractable key generated in the token", attrs)
	}
	// Concurrent signatures: each borrows its own session (platform.md).
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			d := sha256.Sum256([]byte{byte(i)})
			sig, err := key.Sign(rand.Reader, d[:], crypto.SHA256)
			if err == nil {
				err = rsa.VerifyPKCS1v15(key.Public().(*rsa.PublicKey), crypto.SHA256, d[:], sig)
			}
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "t"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatalf("self-signed certificate through the token: %v", err)
	}
	cert, _ := x509.ParseCertificate(der)
	if err := tok.StoreCertificate("pec-signing", cert); err != nil {
		t.Fatal(err)
	}
	got, err := tok.Certificate("pec-signing")
	if err != nil || !got.Equal(cert) {
		t.Errorf("Certificate = %v, %v", got, err)
	}
	if _, err := tok.Signer("missing"); !errors.Is(err, hsm.ErrNotFound) {
		t.Errorf("Signer(missing) err = %v, want ErrNotFound", err)
	}
}

// TestTwoTokensOneProcess: the lab creates both providers' tokens, each with
// its own SOFTHSM2_CONF, one after the other in one process.
func TestTwoTokensOneProcess(t *testing.T) {
	for _, label := range []string{"alpha", "beta"} {
		tok, err := hsm.Open(newToken(t, label))
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		if _, err := tok.GenerateRSAKey("k", 2048); err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		if err := tok.Close(); err != nil {
			t.Fatalf("%s close: %v", label, err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	cfg := newToken(t, "gamma")
	bad := cfg
	bad.PIN = "0000"
	if tok, err := hsm.Open(bad); err == nil {
		tok.Close()
		t.Error("wrong PIN accepted")
	}
	bad = cfg
	bad.Module = "/nonexistent/libpkcs11.so"
	if tok, err := hsm.Open(bad); err == nil {
		tok.Close()
		t.Error("missing module accepted")
	}
	bad = cfg
	bad.TokenLabel = "nosuch"
	if _, err := hsm.Open(bad); !errors.Is(err, hsm.ErrNotFound) {
		t.Errorf("unknown token: err = %v, want ErrNotFound", err)
	}
}

func BenchmarkSign(b *testing.B) {
	conf, _ := hsm.WriteSoftHSMConf(b.TempDir())
	if err := hsm.InitSoftHSMToken(conf, "bench", "87654321", "1234"); err != nil {
		b.Skip(err)
	}
	tok, err := hsm.Open(hsm.Config{SoftHSMConf: conf, TokenLabel: "bench", PIN: "1234", Sessions: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer tok.Close()
	key, err := tok.GenerateRSAKey("k", 2048)
	if err != nil {
		b.Fatal(err)
	}
	d := sha256.Sum256([]byte("x"))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := key.Sign(rand.Reader, d[:], crypto.SHA256); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
