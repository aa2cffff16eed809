package lab

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pecspec/pecspec/reference/index"
)

// PUT is the provider under test the lab enrolled: its identity from the
// enrolment file and the certificates and index record the lab made for it.
type PUT struct {
	*Enrolment
	Cert     *x509.Certificate // the signing certificate: its own or issued by the lab CA
	trustPEM []byte            // its own CA bundle
	certPEM  []byte            // its own signing certificate
	csr      *x509.CertificateRequest
	tlsCSR   *x509.CertificateRequest
	key      crypto.Signer // only when the lab generated the signing key
	keyPEM   []byte
	tlsPEM   []byte // issued TLS certificate
	tlsKey   []byte // its key, when the lab generated it
	// ldif is the PUT's published signed LDIF, when the lab has it at start
	// (it signed it with a key it generated, or the file already exists).
	ldif []byte
	crls map[string][]byte // file name → content
	dir  string            // its directory in the lab's: put, or put/<name> when several are enrolled
}

// readPUT reads every file the enrolment names, before the lab directory is
// reset (the files may live in it).
func readPUT(e *Enrolment) (*PUT, error) {
	p := &PUT{Enrolment: e, crls: map[string][]byte{}}
	var errs []error
	read := func(what, file string, into *[]byte) {
		if file == "" {
			return
		}
		data, err := os.ReadFile(e.path(file))
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: %v", ErrEnrol, what, err))
		}
		*into = data
	}
	read("trust", e.Trust, &p.trustPEM)
	read("certificate", e.Certificate, &p.certPEM)
	for _, f := range e.CRLs {
		var data []byte
		read("crls", f, &data)
		p.crls[filepath.Base(f)] = data
	}
	if is := e.Issue; is != nil {
		var err error
		if is.SigningCSR != "" {
			if p.csr, err = readCSR(e.path(is.SigningCSR)); err != nil {
				errs = append(errs, fmt.Errorf("%w: issue.signing_csr: %v", ErrEnrol, err))
			}
		}
		if is.TLSCSR != "" {
			if p.tlsCSR, err = readCSR(e.path(is.TLSCSR)); err != nil {
				errs = append(errs, fmt.Errorf("%w: issue.tls_csr: %v", ErrEnrol, err))
			}
		}
	}
	if f := e.path(e.LDIF); f != "" && !strings.HasPrefix(f, "https://") {
		if data, err := os.ReadFile(f); err == nil {
			p.ldif = data
		} // not there yet: the PUT signs its record once it has its certificate
	}
	return p, errors.Join(errs...)
}

// certifyPUT makes or checks the PUT's certificates with the lab CA.
func (l *Lab) certifyPUT(p *PUT) error {
	if err := l.signingCertificate(p); err != nil {
		return err
	}
	if err := l.tlsCertificate(p); err != nil {
		return err
	}
	if p.key != nil {
		ldif, err := index.SignLDIF(index.ProviderLDIF(p.entry()), p.Cert, p.key)
		if err != nil {
			return fmt.Errorf("%w: sign the PUT's LDIF: %v", ErrLab, err)
		}
		p.ldif = ldif
	}
	if p.ldif != nil {
		// The lab's LDIF reader loads it: it must open as theirs will.
		ps, err := index.OpenSignedLDIF(p.ldif, l.trustPool(p), nowFunc())
		if err != nil {
			return fmt.Errorf("%w: ldif %s: %v", ErrEnrol, p.LDIF, err)
		}
		hash := index.CertHash(p.Cert)
		listed := func(r index.Provider) bool {
			return slices.ContainsFunc(r.Hashes, func(h string) bool { return strings.EqualFold(h, hash) })
		}
		if !slices.ContainsFunc(ps, listed) {
			// Signed before this certificate was issued: stale until the PUT
			// signs its record again; meanwhile the lab reads it from slapd.
			l.log.Warn("the PUT's signed LDIF does not list its current certificate: ignored", "ldif", p.LDIF)
			p.ldif = nil
		}
	}
	return nil
}

func (l *Lab) signingCertificate(p *PUT) error {
	var err error
	switch {
	case p.certPEM != nil:
		b, _ := pem.Decode(p.certPEM)
		if b == nil {
			return fmt.Errorf("%w: certificate %s: no PEM certificate", ErrEnrol, p.Certificate)
		}
		if p.Cert, err = x509.ParseCertificate(b.Bytes); err != nil {
			return fmt.Errorf("%w: certificate %s: %v", ErrEnrol, p.Certificate, err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(p.trustPEM) {
			return fmt.Errorf("%w: trust %s: no PEM certificate", ErrEnrol, p.Trust)
		}
		if _, err := p.Cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: nowFunc(),
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			return fmt.Errorf("%w: certificate %s does not chain to trust %s: %v", ErrEnrol, p.Certificate, p.Trust, err)
		}
	case p.csr != nil:
		if p.Cert, _ = l.keptSigning(p); p.Cert == nil {
			if p.Cert, err = l.CA.IssueSigning(p.ProviderName, p.ServiceAddress, p.csr.PublicKey, nowFunc()); err == nil {
				err = l.keep(map[string][]byte{p.kept(keptSigner): CertPEM(p.Cert)})
			}
		}
	default:
		err = l.quickStartSigning(p)
	}
	if err != nil {
		return fmt.Errorf("%w: the PUT's signing certificate: %v", ErrLab, err)
	}
	return nil
}

// quickStartSigning makes the signing key and certificate as files, or takes
// the kept ones.
func (l *Lab) quickStartSigning(p *PUT) error {
	if cert, keyPEM := l.keptSigning(p); cert != nil {
		if b, _ := pem.Decode(keyPEM); b != nil {
			if k, err := x509.ParsePKCS8PrivateKey(b.Bytes); err == nil {
				if signer, ok := k.(crypto.Signer); ok && samePublicKey(signer.Public(), cert.PublicKey) {
					p.Cert, p.key, p.keyPEM = cert, signer, keyPEM
					return nil
				}
			}
		}
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	p.key, p.keyPEM = key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if p.Cert, err = l.CA.IssueSigning(p.ProviderName, p.ServiceAddress, key.Public(), nowFunc()); err != nil {
		return err
	}
	return l.keep(map[string][]byte{p.kept(keptSigner): CertPEM(p.Cert), p.kept(keptSignerKey): p.keyPEM})
}

func (l *Lab) tlsCertificate(p *PUT) error {
	if p.Issue == nil || len(p.Issue.TLS) == 0 {
		return nil
	}
	if p.tlsPEM, p.tlsKey = l.keptTLSCert(p); p.tlsPEM != nil {
		return nil
	}
	var err error
	if p.tlsCSR != nil {
		var c *x509.Certificate
		if c, err = l.CA.IssueTLSFor(p.Issue.TLS, p.tlsCSR.PublicKey, nowFunc()); err == nil {
			p.tlsPEM = CertPEM(c)
		}
	} else {
		p.tlsPEM, p.tlsKey, err = l.CA.IssueTLS(p.Issue.TLS, nowFunc())
	}
	if err == nil {
		files := map[string][]byte{p.kept(keptTLS): p.tlsPEM}
		if p.tlsKey != nil {
			files[p.kept(keptTLSKey)] = p.tlsKey
		}
		err = l.keep(files)
	}
	if err != nil {
		return fmt.Errorf("%w: the PUT's TLS certificate: %v", ErrLab, err)
	}
	return nil
}

// entry is the PUT's record in the index (RFC 6109 §4.5.9).
func (p *PUT) entry() index.Provider {
	return index.Provider{Name: p.ProviderName, MailReceipt: p.ReceiptsMailbox.Address, Domains: p.Domains,
		Certificates: []*x509.Certificate{p.Cert}, Hashes: []string{index.CertHash(p.Cert)}}
}

// trustPool is the lab CA and the PUT's own CAs.
func (l *Lab) trustPool(p *PUT) *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(l.CA.Cert)
	if p != nil {
		pool.AppendCertsFromPEM(p.trustPEM)
	}
	return pool
}

// mxIP is the IPv4 address of the PUT's MX host: the host itself, or what
// this machine resolves it to; "" when it has none.
func (p *PUT) mxIP() string {
	if ip := net.ParseIP(p.MX.Host); ip != nil {
		return ip.String()
	}
	ips, err := net.LookupIP(p.MX.Host)
	if err != nil {
		return ""
	}
	for _, ip := range ips {
		if ip.To4() != nil {
			return ip.String()
		}
	}
	return ""
}

// routedByDNS: the lab's providers find the PUT's MX by DNS when it listens
// on the lab's MX port at an address the DNS gives; else by a static route.
func (p *PUT) routedByDNS(mxPort int) bool {
	return p.MX.Port == mxPort && p.mxIP() != ""
}
