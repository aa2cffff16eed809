package scenarios_test

import (
	"crypto/x509"
	"testing"
)

func mustPool(t *testing.T, pem []byte) *x509.CertPool {
	t.Helper()
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(pem) {
		t.Fatal("no certificate in the CA file")
	}
	return p
}
