package report

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
)

// revocation judges SIG-07 (RFC 6109 §2.2.2): the signer certificate is not
// on a CRL of its issuer that was current at the message's Date.
func revocation(x *Msg) outcome {
	c := x.signature().cert
	if len(x.Opts.CRLs) == 0 {
		return na("no CRL given (--crl); revocation not checked")
	}
	at := x.at()
	for _, crl := range x.Opts.CRLs {
		if !bytes.Equal(crl.RawIssuer, c.RawIssuer) {
			continue
		}
		for _, r := range crl.RevokedCertificateEntries {
			if r.SerialNumber.Cmp(c.SerialNumber) == 0 && !r.RevocationTime.After(at) {
				return fail("serial %s revoked on %s (CRL of %s)", c.SerialNumber, r.RevocationTime.Format("2006-01-02"), crl.Issuer)
			}
		}
		if at.Before(crl.ThisUpdate) || (!crl.NextUpdate.IsZero() && at.After(crl.NextUpdate)) {
			return na("the CRL of %s is not current at the message Date", crl.Issuer)
		}
		return pass("not on the CRL of %s (%s)", crl.Issuer, crl.ThisUpdate.Format("2006-01-02"))
	}
	return na("no CRL of the issuer %s given", c.Issuer)
}

// LoadCRL reads a CRL file, PEM or DER, for SIG-07.
func LoadCRL(file string) (*x509.RevocationList, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("crl: %w", err)
	}
	if b, _ := pem.Decode(data); b != nil {
		data = b.Bytes
	}
	crl, err := x509.ParseRevocationList(data)
	if err != nil {
		return nil, fmt.Errorf("crl %s: %w", file, err)
	}
	return crl, nil
}
