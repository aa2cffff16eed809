package lab

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/pecspec/pecspec/pec/hsm"
)

// Gamma is the lab's scriptable peer (issue "conformance suite"): a provider
// listed in the index, with its own SoftHSM token and certificate, that no
// pecref serves. The probe runs it: it listens on its MX port for what the
// target sends to its domain and sends crafted traffic to the target. Its
// token also holds the key of a provider that is not in the index
// (UnlistedKeyLabel, certificate for pec.unlisted.test), for the anomaly of a
// message signed by an unlisted provider: one token, so the probe's process
// needs one SOFTHSM2_CONF.
const (
	GammaName        = "gamma"
	UnlistedKeyLabel = "unlisted-signing"
	UnlistedDomain   = "pec.unlisted.test"
)

// makePeer creates gamma: token and keys, signing certificates, TLS
// certificate for its MX, its signed LDIF; its MX port is allocated with the
// instances' (startInstances) and it enters the index with them (loadIndex).
func (l *Lab) makePeer() error {
	g := &Instance{Name: GammaName, ProviderName: "Gamma Scriptable Peer", Domain: "pec." + GammaName + ".test",
		Dir: filepath.Join(l.Dir, GammaName), TokenLabel: GammaName, PIN: secret()[:8]}
	g.Service = "posta-certificata@" + g.Domain
	g.MXHost = l.layout.mx[GammaName]
	g.Receipts = Account{Name: "receipts", Address: "ricevute@" + g.Domain}
	for _, u := range []string{"carol", "dave"} {
		g.Accounts = append(g.Accounts, Account{Name: u, Address: u + "@" + g.Domain})
	}
	if err := os.MkdirAll(g.Dir, 0o700); err != nil {
		return fmt.Errorf("%w: %v", ErrLab, err)
	}
	if err := l.makeToken(g); err != nil {
		return fmt.Errorf("%w: gamma token: %v", ErrLab, err)
	}
	tok, err := hsm.Open(hsm.Config{SoftHSMConf: g.SoftHSMConf, TokenLabel: g.TokenLabel, PIN: g.PIN, Sessions: 1})
	if err != nil {
		return fmt.Errorf("%w: gamma token: %v", ErrLab, err)
	}
	defer tok.Close()
	key, err := tok.GenerateRSAKey(UnlistedKeyLabel, 2048)
	if err != nil {
		return fmt.Errorf("%w: unlisted key: %v", ErrLab, err)
	}
	cert, err := l.CA.IssueSigning("Provider Not Listed", "posta-certificata@"+UnlistedDomain, key.Public(), nowFunc())
	if err != nil {
		return fmt.Errorf("%w: unlisted certificate: %v", ErrLab, err)
	}
	if err := tok.StoreCertificate(UnlistedKeyLabel, cert); err != nil {
		return fmt.Errorf("%w: unlisted certificate: %v", ErrLab, err)
	}
	certPEM, keyPEM, err := l.CA.IssueTLS(l.tlsHosts(g.Domain, g.MXHost), nowFunc())
	if err != nil {
		return fmt.Errorf("%w: gamma TLS: %v", ErrLab, err)
	}
	if err := writeFiles(g.Dir, map[string][]byte{"tls.pem": certPEM, "tls.key": keyPEM,
		"signer.pem": CertPEM(g.Cert), "unlisted.pem": CertPEM(cert)}); err != nil {
		return err
	}
	l.Peer = g
	return nil
}

// peerTarget is the target file's peer section: what the probe needs to run
// gamma (paths relative to the target file).
type peerTarget struct {
	Name            string   `yaml:"name"`
	ProviderName    string   `yaml:"provider_name"`
	Domain          string   `yaml:"domain"`
	ServiceAddress  string   `yaml:"service_address"`
	ReceiptsAddress string   `yaml:"receipts_address"`
	Accounts        []string `yaml:"accounts"`
	MXListen        string   `yaml:"mx_listen"`
	TLSCert         string   `yaml:"tls_cert"`
	TLSKey          string   `yaml:"tls_key"`
	SoftHSMConf     string   `yaml:"softhsm_conf"`
	TokenLabel      string   `yaml:"token_label"`
	PIN             string   `yaml:"pin"`
	KeyLabel        string   `yaml:"key_label"`
	Certificate     string   `yaml:"certificate"`
	UnlistedKey     string   `yaml:"unlisted_key_label"`
	UnlistedCert    string   `yaml:"unlisted_certificate"`
}

func (l *Lab) peerTarget() *peerTarget {
	g := l.Peer
	if g == nil {
		return nil
	}
	p := &peerTarget{Name: g.Name, ProviderName: g.ProviderName, Domain: g.Domain, ServiceAddress: g.Service,
		ReceiptsAddress: g.Receipts.Address, MXListen: g.MXAddr(),
		TLSCert: filepath.Join(g.Name, "tls.pem"), TLSKey: filepath.Join(g.Name, "tls.key"),
		SoftHSMConf: g.SoftHSMConf, TokenLabel: g.TokenLabel, PIN: g.PIN, KeyLabel: KeyLabel,
		Certificate: filepath.Join(g.Name, "signer.pem"), UnlistedKey: UnlistedKeyLabel,
		UnlistedCert: filepath.Join(g.Name, "unlisted.pem")}
	for _, a := range g.Accounts {
		p.Accounts = append(p.Accounts, a.Address)
	}
	return p
}
