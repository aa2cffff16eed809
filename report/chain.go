package report

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"time"
)

// chainInfo is SIG-05's judgment of the signer's certificate chain.
type chainInfo struct {
	status Status
	detail string
	path   []*x509.Certificate // leaf first, anchor last, when it verified
	ownSHA bool                // verified by the grader's own SHA-1 check
}

// anchors are the trust anchors the grader was given: Options.Anchors and,
// with an index, its providerCertificate values (RFC 6109 §2.2.2: a
// certificate listed in the index is a PEC provider's).
func (x *Msg) anchors() []*x509.Certificate {
	out := x.Opts.Anchors
	if x.Opts.Index != nil {
		out = append(out[:len(out):len(out)], x.Opts.Index.Certificates()...)
	}
	return out
}

// chain verifies the signer's chain at the message Date, once. Go's x509
// decides first; when it refuses, the grader builds the path itself, which
// verifies SHA-1 certificate signatures (DigitPA era, pec-rules A11/A18)
// with its own check of that one algorithm, never by turning Go's refusal
// off. A chain that ends at an issuer outside the anchors is unknown, not
// failed.
func (x *Msg) chain() *chainInfo {
	if x.ch != nil {
		return x.ch
	}
	x.ch = x.verifyChain()
	return x.ch
}

func (x *Msg) verifyChain() *chainInfo {
	s := x.signature()
	anchors := x.anchors()
	if x.Opts.Trust == nil && len(anchors) == 0 {
		if x.Opts.NoTrust {
			return &chainInfo{status: NA, detail: "chains not verified (--no-trust)"}
		}
		return &chainInfo{status: Error, detail: "no trust anchors: give --trust or --index, or --no-trust"}
	}
	at := x.at()
	roots := x509.NewCertPool()
	if x.Opts.Trust != nil {
		roots = x.Opts.Trust.Clone()
	}
	for _, a := range anchors {
		roots.AddCert(a)
	}
	inter := x509.NewCertPool()
	for _, c := range s.p7.Certificates {
		inter.AddCert(c)
	}
	chains, goErr := s.cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if goErr == nil {
		return &chainInfo{status: Pass, path: chains[0], detail: fmt.Sprintf("chains to %q at %s", chains[0][len(chains[0])-1].Subject.CommonName, at.Format("2006-01-02"))}
	}
	b := &pathBuilder{anchors: anchors, pool: append(s.p7.Certificates[:len(s.p7.Certificates):len(s.p7.Certificates)], anchors...), at: at}
	path, err := b.build(s.cert, 0)
	if errors.Is(err, errUnknownIssuer) && inPool(x.Opts.Trust, b.missing) {
		// The issuer is in the pool, whose certificates the grader was not
		// given (Options.Anchors): Go's verdict stands.
		return &chainInfo{status: Fail, detail: fmt.Sprintf("chain of %q: %v", s.cert.Subject.CommonName, goErr)}
	}
	switch {
	case err == nil && hasSHA1(path):
		return &chainInfo{status: Pass, path: path, ownSHA: true,
			detail: fmt.Sprintf("chains to %q at %s (SHA-1 certificate signatures verified by the grader's own check)", path[len(path)-1].Subject.CommonName, at.Format("2006-01-02"))}
	case err == nil:
		return &chainInfo{status: Fail, detail: fmt.Sprintf("chain of %q: %v", s.cert.Subject.CommonName, goErr)}
	case errors.Is(err, errUnknownIssuer):
		return &chainInfo{status: Unknown, detail: err.Error()}
	}
	return &chainInfo{status: Fail, detail: fmt.Sprintf("chain of %q: %v", s.cert.Subject.CommonName, err)}
}

var errUnknownIssuer = errors.New("issuer not among the anchors")

// pathBuilder finds a path from a certificate to an anchor by issuer name,
// checking each link (signature, CA flags, validity at the message Date).
type pathBuilder struct {
	anchors, pool []*x509.Certificate
	at            time.Time
	missing       []byte // the raw name of an issuer found nowhere
}

// inPool reports whether pool holds a certificate whose subject is name.
func inPool(pool *x509.CertPool, name []byte) bool {
	if pool == nil || name == nil {
		return false
	}
	// Subjects is deprecated for the system pool only; this one is the caller's.
	for _, s := range pool.Subjects() {
		if bytes.Equal(s, name) {
			return true
		}
	}
	return false
}

func (b *pathBuilder) isAnchor(c *x509.Certificate) bool {
	for _, a := range b.anchors {
		if a.Equal(c) {
			return true
		}
	}
	return false
}

func (b *pathBuilder) build(c *x509.Certificate, depth int) ([]*x509.Certificate, error) {
	if b.at.Before(c.NotBefore) || b.at.After(c.NotAfter) {
		return nil, fmt.Errorf("%q is not valid at %s (%s – %s)", c.Subject.CommonName, b.at.Format("2006-01-02"),
			c.NotBefore.Format("2006-01-02"), c.NotAfter.Format("2006-01-02"))
	}
	if b.isAnchor(c) {
		return []*x509.Certificate{c}, nil
	}
	if depth > 8 {
		return nil, errors.New("chain longer than 8 certificates")
	}
	if bytes.Equal(c.RawIssuer, c.RawSubject) && checkLink(c, c) == nil {
		if depth == 0 {
			return nil, fmt.Errorf("the signer certificate %q is self-signed and not among the anchors: no CA issued it", c.Subject.CommonName)
		}
		b.missing = c.RawSubject
		return nil, fmt.Errorf("%w: the root %q", errUnknownIssuer, c.Subject.String())
	}
	var firstErr error
	for _, p := range b.pool {
		if !bytes.Equal(p.RawSubject, c.RawIssuer) || p.Equal(c) {
			continue
		}
		if len(c.AuthorityKeyId) > 0 && len(p.SubjectKeyId) > 0 && !bytes.Equal(c.AuthorityKeyId, p.SubjectKeyId) {
			continue
		}
		err := checkLink(c, p)
		var rest []*x509.Certificate
		if err == nil {
			if rest, err = b.build(p, depth+1); err == nil {
				return append([]*x509.Certificate{c}, rest...), nil
			}
		} else {
			err = fmt.Errorf("%q → %q: %v", p.Subject.CommonName, c.Subject.CommonName, err)
		}
		if firstErr == nil || errors.Is(firstErr, errUnknownIssuer) {
			firstErr = err
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	b.missing = c.RawIssuer
	return nil, fmt.Errorf("%w: %q, issuer of %q, is neither an anchor nor in the signature", errUnknownIssuer, c.Issuer.String(), c.Subject.CommonName)
}

// checkLink checks that parent issued child: parent is a CA allowed to sign
// certificates, and child's signature verifies with parent's key. SHA-1
// signatures (sha1WithRSA, ecdsa-with-SHA1), which Go's x509 refuses, are
// checked here; every other algorithm by x509's CheckSignatureFrom.
func checkLink(child, parent *x509.Certificate) error {
	if parent.Version == 3 && !(parent.BasicConstraintsValid && parent.IsCA) && !child.Equal(parent) {
		return errors.New("the issuer is not a CA (Basic Constraints)")
	}
	if parent.KeyUsage != 0 && parent.KeyUsage&x509.KeyUsageCertSign == 0 && !child.Equal(parent) {
		return errors.New("the issuer's Key Usage does not allow certificate signing")
	}
	switch child.SignatureAlgorithm {
	case x509.SHA1WithRSA, x509.ECDSAWithSHA1:
		sum := sha1.Sum(child.RawTBSCertificate)
		switch pub := parent.PublicKey.(type) {
		case *rsa.PublicKey:
			if err := rsa.VerifyPKCS1v15(pub, crypto.SHA1, sum[:], child.Signature); err != nil {
				return fmt.Errorf("sha1WithRSA signature does not verify: %v", err)
			}
			return nil
		case *ecdsa.PublicKey:
			if !ecdsa.VerifyASN1(pub, sum[:], child.Signature) {
				return errors.New("ecdsa-with-SHA1 signature does not verify")
			}
			return nil
		}
		return fmt.Errorf("%s with a %T key", child.SignatureAlgorithm, parent.PublicKey)
	}
	if child.Equal(parent) {
		return child.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature)
	}
	return child.CheckSignatureFrom(parent)
}

// hasSHA1 reports whether a certificate of path is signed with SHA-1.
func hasSHA1(path []*x509.Certificate) bool { return len(sha1Signed(path)) > 0 }

// sha1Signed names the certificates of certs signed with SHA-1.
func sha1Signed(certs []*x509.Certificate) []string {
	var out []string
	for _, c := range certs {
		if c.SignatureAlgorithm == x509.SHA1WithRSA || c.SignatureAlgorithm == x509.ECDSAWithSHA1 {
			out = append(out, fmt.Sprintf("%q", c.Subject.CommonName))
		}
	}
	return out
}

// LoadTrust reads a PEM bundle of trust anchors for SIG-05: the pool and
// the certificates (Options.Trust and Options.Anchors).
func LoadTrust(file string) (*x509.CertPool, []*x509.Certificate, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, fmt.Errorf("trust: %w", err)
	}
	pool := x509.NewCertPool()
	var certs []*x509.Certificate
	for rest := data; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("trust %s: %w", file, err)
		}
		pool.AddCert(c)
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, nil, fmt.Errorf("trust %s: no PEM certificate", file)
	}
	return pool, certs, nil
}
