package lab

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// What a provider under test configured must survive a restart of the lab in
// the same directory: with the same --ports the endpoints are the same, and
// DIR/pki/ keeps the lab CA and the certificates issued to each PUT, which a
// new `lab up` reuses instead of issuing others (the PUT's trust, its
// certificate in its HSM and its record in the index stay valid). The lab's
// own providers get new keys at every start. `rm -r DIR` starts afresh.
const keepDir = "pki"

// Files of DIR/pki/; those of a PUT are prefixed with its name (PUT.kept).
const (
	keptCA        = "ca.pem"
	keptCAKey     = "ca.key"
	keptSigner    = "signer.pem"
	keptSignerKey = "signer.key"
	keptTLS       = "tls.pem"
	keptTLSKey    = "tls.key"
)

// kept names one of the PUT's files in DIR/pki/: put-<name>-<file>.
func (p *PUT) kept(file string) string { return "put-" + p.Name + "-" + file }

func (l *Lab) keepPath(name string) string { return filepath.Join(l.Dir, keepDir, name) }

// loadOrMakeCA reuses the kept CA, or makes one and keeps it.
func (l *Lab) loadOrMakeCA() (*CA, error) {
	certPEM, err1 := os.ReadFile(l.keepPath(keptCA))
	keyPEM, err2 := os.ReadFile(l.keepPath(keptCAKey))
	if err1 == nil && err2 == nil {
		if ca, err := parseCA(certPEM, keyPEM); err == nil && nowFunc().Before(ca.Cert.NotAfter) {
			return ca, nil
		}
	}
	ca, err := NewCA("pecspec lab CA", nowFunc())
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(ca.Key)
	if err != nil {
		return nil, err
	}
	return ca, l.keep(map[string][]byte{keptCA: ca.CertPEM, keptCAKey: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})})
}

func parseCA(certPEM, keyPEM []byte) (*CA, error) {
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, errors.New("no PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, errors.New("not a signing key")
	}
	return &CA{Cert: cert, Key: signer, CertPEM: certPEM}, nil
}

// keep writes files in DIR/pki/.
func (l *Lab) keep(files map[string][]byte) error {
	if err := os.MkdirAll(filepath.Join(l.Dir, keepDir), 0o700); err != nil {
		return fmt.Errorf("%w: %v", ErrLab, err)
	}
	return writeFiles(filepath.Join(l.Dir, keepDir), files)
}

// keptSigning returns the signing certificate (and key, in the quick start)
// issued to the PUT by an earlier lab in this directory, when it is still
// the one this enrolment asks for: same provider name and service address,
// same public key as the CSR, issued by this CA and valid for another day.
func (l *Lab) keptSigning(p *PUT) (*x509.Certificate, []byte) {
	cert := l.keptCert(p.kept(keptSigner))
	if cert == nil || len(cert.Subject.Organization) == 0 || cert.Subject.Organization[0] != p.ProviderName ||
		!slices.Equal(cert.EmailAddresses, []string{p.ServiceAddress}) {
		return nil, nil
	}
	if p.csr != nil {
		if !samePublicKey(cert.PublicKey, p.csr.PublicKey) {
			return nil, nil
		}
		return cert, nil
	}
	keyPEM, err := os.ReadFile(l.keepPath(p.kept(keptSignerKey)))
	if err != nil {
		return nil, nil
	}
	return cert, keyPEM
}

// keptTLSCert returns the TLS certificate (and lab-made key) issued to the
// PUT by an earlier lab, when it names the same hosts and, with a CSR, the
// same key.
func (l *Lab) keptTLSCert(p *PUT) (certPEM, keyPEM []byte) {
	cert := l.keptCert(p.kept(keptTLS))
	if cert == nil {
		return nil, nil
	}
	var names []string
	names = append(names, cert.DNSNames...)
	for _, ip := range cert.IPAddresses {
		names = append(names, ip.String())
	}
	want := append([]string(nil), p.Issue.TLS...)
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		return nil, nil
	}
	if p.tlsCSR != nil {
		if !samePublicKey(cert.PublicKey, p.tlsCSR.PublicKey) {
			return nil, nil
		}
		return CertPEM(cert), nil
	}
	keyPEM, err := os.ReadFile(l.keepPath(p.kept(keptTLSKey)))
	if err != nil {
		return nil, nil
	}
	return CertPEM(cert), keyPEM
}

// keptCert reads a kept certificate issued by the current CA and valid for
// at least another day.
func (l *Lab) keptCert(name string) *x509.Certificate {
	data, err := os.ReadFile(l.keepPath(name))
	if err != nil {
		return nil
	}
	b, _ := pem.Decode(data)
	if b == nil {
		return nil
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil || cert.CheckSignatureFrom(l.CA.Cert) != nil || nowFunc().Add(24*time.Hour).After(cert.NotAfter) {
		return nil
	}
	return cert
}

func samePublicKey(a, b crypto.PublicKey) bool {
	da, err1 := x509.MarshalPKIXPublicKey(a)
	db, err2 := x509.MarshalPKIXPublicKey(b)
	return err1 == nil && err2 == nil && bytes.Equal(da, db)
}
