package lab

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// CA is the lab's test certification authority.
type CA struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM []byte
}

// NewCA makes a self-signed CA with a software P-256 key (the providers'
// signing keys are in their tokens; the test CA need not be).
func NewCA(name string, now time.Time) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	ski, err := keyID(key.Public())
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Country: []string{"IT"}, Organization: []string{"pecspec"}, CommonName: name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          ski,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("lab: CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, CertPEM: CertPEM(cert)}, nil
}

// IssueSigning issues a provider signing certificate per RFC 6109 §5.5:
// Subject O and CN carry the providerName (CRT-01); KeyUsage digitalSignature,
// critical (CRT-04); AKI and SKI (CRT-05/06); SAN rfc822Name = the service
// address, non-critical (CRT-02); no BasicConstraints (CRT-07); no other
// critical extension (CRT-08).
func (ca *CA) IssueSigning(providerName, serviceAddress string, pub crypto.PublicKey, now time.Time) (*x509.Certificate, error) {
	ski, err := keyID(pub)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject: pkix.Name{Country: []string{"IT"}, Organization: []string{providerName},
			CommonName: "Posta Certificata " + providerName},
		NotBefore:      now.Add(-time.Hour),
		NotAfter:       now.AddDate(2, 0, 0),
		KeyUsage:       x509.KeyUsageDigitalSignature,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		EmailAddresses: []string{serviceAddress},
		SubjectKeyId:   ski,
		AuthorityKeyId: ca.Cert.SubjectKeyId,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("lab: signing certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

// IssueTLS issues a server and client TLS certificate with a software key.
func (ca *CA) IssueTLS(hosts []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	cert, err := ca.IssueTLSFor(hosts, key.Public(), now)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return CertPEM(cert), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), nil
}

// IssueTLSFor issues a server and client TLS certificate for pub, valid for
// hosts (DNS names and IP addresses in the SAN; the first is the CN).
func (ca *CA) IssueTLSFor(hosts []string, pub crypto.PublicKey, now time.Time) (*x509.Certificate, error) {
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{"pecspec lab"}, CommonName: hosts[0]},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(2, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("lab: TLS certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

// CertPEM encodes c as PEM.
func CertPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n.Add(n, big.NewInt(1))
}

// keyID is the SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2 method 1).
func keyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		Key       asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, err
	}
	sum := sha1.Sum(spki.Key.Bytes)
	return sum[:], nil
}

// CRL issues the CA's revocation list as PEM: nothing revoked, current from
// an hour ago for 90 days (the instances' clocks may be advanced by days in
// the timeout scenarios).
func (ca *CA) CRL(now time.Time) ([]byte, error) {
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: serial(),
		ThisUpdate: now.Add(-time.Hour), NextUpdate: now.AddDate(0, 0, 90)}, ca.Cert, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("lab: CRL: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), nil
}
