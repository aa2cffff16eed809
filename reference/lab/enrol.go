package lab

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/pecspec/pecspec/internal/strictyaml"
)

// Enrolment is the file `pecspec lab up --enrol PUT.yaml` reads: the provider
// under test (PUT) and nothing else — the lab adds its counterpart, gamma
// and the external domain. It is a target file (the same keys as
// probe.Target, which `pecspec run --target PUT.yaml --lab DIR` reads) plus
// the issue section; reference/ may not import probe (STYLE 4), so the shape
// is written twice and a test loads the one with the other.
type Enrolment struct {
	Name            string    `yaml:"name"`
	ProviderName    string    `yaml:"provider_name"`
	Domains         []string  `yaml:"domains"`
	ServiceAddress  string    `yaml:"service_address"`
	ReceiptsMailbox Account   `yaml:"receipts_mailbox"`
	Submission      endpoint  `yaml:"submission"`
	IMAP            endpoint  `yaml:"imap"`
	POP3            endpoint  `yaml:"pop3,omitempty"` // optional: POP3S for the same accounts
	MX              endpoint  `yaml:"mx"`             // as the lab must reach it: STARTTLS offered, no AUTH
	Accounts        []Account `yaml:"accounts"`
	Admin           *admin    `yaml:"admin,omitempty"`
	Capabilities    []string  `yaml:"capabilities,omitempty"`
	// Trust is the PUT's own CA bundle (its signing and TLS certificates);
	// Certificate its own signing certificate. Or Issue asks the lab CA.
	Trust       string   `yaml:"trust,omitempty"`
	Certificate string   `yaml:"certificate,omitempty"`
	CRLs        []string `yaml:"crls,omitempty"`
	// LDIF is where the PUT publishes its signed LDIF (RFC 6109 §4.5.6): a
	// file or an https URL.
	LDIF    string `yaml:"ldif,omitempty"`
	LDAPURL string `yaml:"ldap_url,omitempty"` // ignored: the PUT joins the lab's index
	Issue   *Issue `yaml:"issue,omitempty"`

	// The lab provides these; an enrolment file that has them is refused.
	Counterpart any `yaml:"counterpart,omitempty"`
	External    any `yaml:"external,omitempty"`
	Peer        any `yaml:"peer,omitempty"`
	Lab         any `yaml:"lab,omitempty"`

	dir string // of the file: relative paths
}

// Issue asks the lab CA for certificates.
type Issue struct {
	// SigningCSR is a PEM certificate request for the signing key, which
	// stays in the PUT's own HSM; the lab issues the RFC 6109 §5.5
	// certificate for it (subject and SAN from provider_name and
	// service_address, not from the request).
	SigningCSR string `yaml:"signing_csr,omitempty"`
	// SigningKey: the lab generates the signing key and certificate as
	// files (a quick start; a real provider keeps its key in an HSM, OPS-06).
	SigningKey bool `yaml:"signing_key,omitempty"`
	// TLS lists the host names and IP addresses of the PUT's TLS server
	// certificate (submission, IMAPS, MX): the lab issues one, for TLSCSR's
	// key when given, else with a new key.
	TLS    []string `yaml:"tls,omitempty"`
	TLSCSR string   `yaml:"tls_csr,omitempty"`
}

// ErrEnrol wraps every problem of an enrolment file.
var ErrEnrol = errors.New("lab: enrolment")

// LoadEnrolment reads and checks an enrolment file; every problem is
// reported at once. Unknown keys are refused.
func LoadEnrolment(path string) (*Enrolment, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEnrol, err)
	}
	var e Enrolment
	if err := strictyaml.Decode(data, &e); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrEnrol, path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEnrol, err)
	}
	e.dir = filepath.Dir(abs)
	if err := e.validate(); err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return &e, nil
}

// path resolves p against the enrolment file's directory.
func (e *Enrolment) path(p string) string {
	if p == "" || filepath.IsAbs(p) || strings.HasPrefix(p, "https://") {
		return p
	}
	return filepath.Join(e.dir, p)
}

var (
	nameRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	domainRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$`)
)

// labNames are the names, provider names and domains the lab uses.
var labNames = []string{"alpha", "beta", GammaName, "external", "Reference Alpha", "Reference Beta",
	"Gamma Scriptable Peer", "pec.alpha.test", "pec.beta.test", "pec.gamma.test", UnlistedDomain, ExternalDomain}

func (e *Enrolment) validate() error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrEnrol}, a...)...))
	}
	if !nameRE.MatchString(e.Name) {
		bad("name %q: lowercase letters, digits and dashes", e.Name)
	}
	if e.ProviderName == "" {
		bad("provider_name is empty")
	}
	for _, v := range append([]string{e.Name, e.ProviderName}, e.Domains...) {
		if slices.ContainsFunc(labNames, func(n string) bool { return strings.EqualFold(n, v) }) {
			bad("%q is the lab's own: choose another", v)
		}
	}
	if len(e.Domains) == 0 {
		bad("domains is empty")
	}
	for _, d := range e.Domains {
		if !domainRE.MatchString(d) {
			bad("domain %q is not a domain name", d)
		}
	}
	e.checkAddress("service_address", e.ServiceAddress, bad)
	e.checkAddress("receipts_mailbox.address", e.ReceiptsMailbox.Address, bad)
	e.checkEndpoints(bad)
	e.checkAccounts(bad)
	for name, v := range map[string]any{"counterpart": e.Counterpart, "external": e.External, "peer": e.Peer, "lab": e.Lab} {
		if v != nil {
			bad("%s: the lab provides it; remove it from the enrolment file", name)
		}
	}
	e.checkCertificates(bad)
	return errors.Join(errs...)
}

// checkAddress: an address at one of the PUT's domains.
func (e *Enrolment) checkAddress(field, addr string, bad func(string, ...any)) {
	_, d, ok := strings.Cut(addr, "@")
	if !ok || !slices.ContainsFunc(e.Domains, func(x string) bool { return strings.EqualFold(x, d) }) {
		bad("%s %q is not an address at one of the domains %v", field, addr, e.Domains)
	}
}

func (e *Enrolment) checkEndpoints(bad func(string, ...any)) {
	for name, ep := range map[string]endpoint{"submission": e.Submission, "imap": e.IMAP, "mx": e.MX} {
		if ep.Host == "" || ep.Port <= 0 || ep.Port > 65535 {
			bad("%s needs host and port", name)
		}
		if ep.TLS != "" && ep.TLS != "implicit" && ep.TLS != "starttls" && ep.TLS != "none" {
			bad("%s tls %q is not implicit, starttls or none", name, ep.TLS)
		}
	}
	if e.MX.TLS == "implicit" {
		bad("mx: a PEC MX offers STARTTLS (RFC 6109 §5.3); tls: starttls")
	}
}

// checkAccounts: the suite's steps name the target's users alice and bob,
// and APC-11 needs two accounts.
func (e *Enrolment) checkAccounts(bad func(string, ...any)) {
	handles := map[string]bool{}
	for i, a := range e.Accounts {
		e.checkAddress(fmt.Sprintf("accounts[%d].address", i), a.Address, bad)
		if a.Password == "" {
			bad("accounts[%d] (%s) has no password", i, a.Address)
		}
		h := a.Name
		if h == "" {
			h, _, _ = strings.Cut(a.Address, "@")
		}
		handles[h] = true
	}
	for _, h := range []string{"alice", "bob"} {
		if !handles[h] {
			bad("accounts: no account with handle %q (the scenarios' users; set name: %s on one account)", h, h)
		}
	}
	if e.ReceiptsMailbox.Password == "" {
		bad("receipts_mailbox needs a password (the suite reads its presa in carico)")
	}
}

// checkCertificates: exactly one source of the signing certificate, and a
// way for the lab to verify the PUT's TLS certificate.
func (e *Enrolment) checkCertificates(bad func(string, ...any)) {
	is := e.Issue
	if is == nil {
		is = &Issue{}
	}
	n := 0
	for _, set := range []bool{e.Certificate != "", is.SigningCSR != "", is.SigningKey} {
		if set {
			n++
		}
	}
	if n != 1 {
		bad("give exactly one of certificate (with trust), issue.signing_csr and issue.signing_key (%d given)", n)
	}
	if e.Certificate != "" && e.Trust == "" {
		bad("certificate %s needs trust: the CA bundle it chains to", e.Certificate)
	}
	if len(is.TLS) == 0 && is.TLSCSR != "" {
		bad("issue.tls_csr needs issue.tls: the names and addresses to certify")
	}
	if len(is.TLS) == 0 && e.Trust == "" {
		bad("the lab cannot verify the PUT's TLS certificate: list its names and addresses under issue.tls, or give trust")
	}
	for _, h := range is.TLS {
		if net.ParseIP(h) == nil && !domainRE.MatchString(h) && h != "localhost" {
			bad("issue.tls %q is neither an IP address nor a host name", h)
		}
	}
}

// readPEM reads the first PEM block of type typ from file.
func readPEM(file, typ string) ([]byte, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, fmt.Errorf("%s: no PEM %s", file, typ)
		}
		if b.Type == typ || (typ == "CERTIFICATE REQUEST" && b.Type == "NEW CERTIFICATE REQUEST") {
			return b.Bytes, nil
		}
	}
}

// readCSR reads and checks a PEM certificate request (its self-signature
// proves the requester holds the key).
func readCSR(file string) (*x509.CertificateRequest, error) {
	der, err := readPEM(file, "CERTIFICATE REQUEST")
	if err != nil {
		return nil, err
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("%s: signature: %v", file, err)
	}
	return csr, nil
}
