package lab

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pecspec/pecspec/pec/hsm"
	"github.com/pecspec/pecspec/reference/index"
)

// Instance is one reference provider of the lab.
type Instance struct {
	Name         string // alpha
	ProviderName string // Reference Alpha
	Domain       string // pec.alpha.test
	Service      string // posta-certificata@pec.alpha.test
	Receipts     Account
	Accounts     []Account
	Dir          string
	Cert         *x509.Certificate
	Ports        Ports
	MXHost       string // the MX's own address (layout.go); the other ports are at the lab address
	AdminToken   string
	TokenLabel   string
	PIN          string
	SoftHSMConf  string
	proc         *Proc
	dovecot      *Dovecot // serves its Maildirs over IMAPS and POP3S
	ldifIndex    bool     // reads the index from the signed LDIF files, not slapd
}

// Account is a mailbox with its password; Username is the login name when
// it is not the address (a provider under test may have its own).
type Account struct {
	Name     string `yaml:"name,omitempty"`
	Address  string `yaml:"address"`
	Username string `yaml:"username,omitempty"`
	Password string `yaml:"password"`
}

// Ports are an instance's listening ports: the MX at MXHost, the others
// at the lab address. IMAP and POP3 are its Dovecot's IMAPS and POP3S.
type Ports struct{ Submission, MX, IMAP, POP3, Admin int }

// MXAddr is host:port of the instance's MX.
func (in *Instance) MXAddr() string { return net.JoinHostPort(in.MXHost, strconv.Itoa(in.Ports.MX)) }

// tlsHosts are the names and addresses of a lab party's TLS certificate:
// the lab address, its MX address and MX name, its domain.
func (l *Lab) tlsHosts(domain, mxHost string) []string {
	hosts := []string{"127.0.0.1", "localhost", domain, mxName(domain), mxHost}
	if a := l.layout.Addr(); a != "127.0.0.1" {
		hosts = append(hosts, a)
	}
	return hosts
}

// mxName is the MX host name the lab's DNS gives a domain.
func mxName(domain string) string { return "mx." + domain }

// KeyLabel labels the signing key pair and its certificate in every token.
const KeyLabel = "pec-signing"

// specs are the lab's reference instances. Alpha reads the index from slapd,
// beta from the providers' signed LDIF files: both ways of RFC 6109 §4.5 run
// in every flow.
var specs = []struct {
	name, provider string
	ldifIndex      bool
}{
	{"alpha", "Reference Alpha", false},
	{"beta", "Reference Beta", true},
}

// makePKI takes the lab CA kept from an earlier lab in the directory or makes
// one (keep.go), and writes ca.pem and its current CRL ca.crl (no
// certificate revoked; the grader judges SIG-07 against it).
func (l *Lab) makePKI() error {
	ca, err := l.loadOrMakeCA()
	if err != nil {
		return fmt.Errorf("%w: CA: %v", ErrLab, err)
	}
	l.CA = ca
	crl, err := ca.CRL(nowFunc())
	if err != nil {
		return fmt.Errorf("%w: CRL: %v", ErrLab, err)
	}
	if err := os.WriteFile(l.CAFile(), ca.CertPEM, 0o644); err != nil {
		return fmt.Errorf("%w: %v", ErrLab, err)
	}
	if err := os.WriteFile(filepath.Join(l.Dir, "ca.crl"), crl, 0o644); err != nil {
		return fmt.Errorf("%w: %v", ErrLab, err)
	}
	return nil
}

// makeProviders creates, per provider, its SoftHSM2 token, the RSA-2048 key
// generated inside it (non-extractable), its RFC 6109 §5.5 certificate stored
// in the token, and its TLS certificate.
func (l *Lab) makeProviders() error {
	for _, s := range specs {
		in := &Instance{Name: s.name, ProviderName: s.provider, Domain: "pec." + s.name + ".test", ldifIndex: s.ldifIndex,
			Dir: filepath.Join(l.Dir, s.name), AdminToken: secret(), TokenLabel: s.name, PIN: secret()[:8]}
		in.Service = "posta-certificata@" + in.Domain
		in.MXHost = l.layout.mx[in.Name]
		in.Receipts = Account{Name: "receipts", Address: "ricevute@" + in.Domain, Password: secret()}
		for _, u := range []string{"alice", "bob", VirusMailbox} {
			in.Accounts = append(in.Accounts, Account{Name: u, Address: u + "@" + in.Domain, Password: secret()})
		}
		if err := os.MkdirAll(in.Dir, 0o700); err != nil {
			return fmt.Errorf("%w: %v", ErrLab, err)
		}
		if err := l.makeToken(in); err != nil {
			return fmt.Errorf("%w: %s token: %v", ErrLab, in.Name, err)
		}
		certPEM, keyPEM, err := l.CA.IssueTLS(l.tlsHosts(in.Domain, in.MXHost), nowFunc())
		if err != nil {
			return fmt.Errorf("%w: %s TLS: %v", ErrLab, in.Name, err)
		}
		if err := writeFiles(in.Dir, map[string][]byte{"tls.pem": certPEM, "tls.key": keyPEM,
			"signer.pem": CertPEM(in.Cert)}); err != nil {
			return err
		}
		l.Providers = append(l.Providers, in)
	}
	return nil
}

func (l *Lab) makeToken(in *Instance) error {
	conf, err := hsm.WriteSoftHSMConf(filepath.Join(in.Dir, "softhsm"))
	if err != nil {
		return err
	}
	in.SoftHSMConf = conf
	if err := hsm.InitSoftHSMToken(conf, in.TokenLabel, secret()[:8], in.PIN); err != nil {
		return err
	}
	tok, err := hsm.Open(hsm.Config{SoftHSMConf: conf, TokenLabel: in.TokenLabel, PIN: in.PIN, Sessions: 1})
	if err != nil {
		return err
	}
	defer tok.Close()
	key, err := tok.GenerateRSAKey(KeyLabel, 2048)
	if err != nil {
		return err
	}
	cert, err := l.CA.IssueSigning(in.ProviderName, in.Service, key.Public(), nowFunc())
	if err != nil {
		return err
	}
	in.Cert = cert
	if err := tok.StoreCertificate(KeyLabel, cert); err != nil {
		return err
	}
	return l.publishLDIF(in, key)
}

// publishLDIF writes the instance's LDIF signed in its token as a DER PKCS#7
// .p7m (RFC 6109 §4.5, §4.5.6; IDX-09) in the lab's index/ directory.
func (l *Lab) publishLDIF(in *Instance, key crypto.Signer) error {
	p7m, err := index.SignLDIF(index.ProviderLDIF(in.entry()), in.Cert, key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(l.LDIFFile(in.Name)), 0o700); err != nil {
		return err
	}
	return os.WriteFile(l.LDIFFile(in.Name), p7m, 0o600)
}

// LDIFFile is where the lab publishes provider name's signed LDIF.
func (l *Lab) LDIFFile(name string) string {
	return filepath.Join(l.Dir, "index", name+".ldif.p7m")
}

// entry is the instance's record in the index (RFC 6109 §4.5.9).
func (in *Instance) entry() index.Provider {
	return index.Provider{Name: in.ProviderName, MailReceipt: in.Receipts.Address, Domains: []string{in.Domain},
		Certificates: []*x509.Certificate{in.Cert}, Hashes: []string{index.CertHash(in.Cert)}}
}

func writeFiles(dir string, files map[string][]byte) error {
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return fmt.Errorf("%w: %v", ErrLab, err)
		}
	}
	return nil
}

// findPecref locates the pecref binary: the given path, the directory of the
// running executable, then $PATH.
func findPecref(given string) (string, error) {
	if given != "" {
		if _, err := os.Stat(given); err != nil {
			return "", fmt.Errorf("%w: pecref binary: %v", ErrLab, err)
		}
		return given, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "pecref")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("pecref"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%w: pecref binary not found next to %s nor in $PATH (run `make build`)", ErrLab,
		strings.TrimSpace(os.Args[0]))
}
