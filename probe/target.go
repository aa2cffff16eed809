// Package probe drives a PEC provider from the outside, only through its public
// protocols: SMTP submission as a user, IMAP as a user, SMTP to its MX, and for
// the reference its admin HTTP API. It keeps every message it sees as evidence.
// It never imports reference code (DESIGN.md "the probe never calls reference
// code in-process").
package probe

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/pecspec/pecspec/internal/strictyaml"
)

// Target describes one provider as a YAML file a provider can fill in by hand
// (DESIGN.md "The target file"). The lab writes one for each reference
// instance, and reference.yaml: alpha as target with beta as its counterpart.
type Target struct {
	Name           string   `yaml:"name"`            // label in reports
	ProviderName   string   `yaml:"provider_name"`   // providerName in the index, O/CN of its certificate
	Domains        []string `yaml:"domains"`         // managedDomains
	ServiceAddress string   `yaml:"service_address"` // From of its system messages
	// ReceiptsMailbox is its mailReceipt: where presa in carico and
	// rilevazione virus land (RFC 6109 §2.2.5, §4.5.4).
	ReceiptsMailbox Account  `yaml:"receipts_mailbox"`
	Submission      Endpoint `yaml:"submission"`
	IMAP            Endpoint `yaml:"imap"`
	// POP3 is its POP3 server (POP3S, RFC 8314 implicit TLS), optional:
	// scenarios reading over POP3 are N/A without it.
	POP3        Endpoint  `yaml:"pop3,omitempty"`
	MX          Endpoint  `yaml:"mx"`
	Accounts    []Account `yaml:"accounts"`
	Trust       string    `yaml:"trust"`          // PEM CA bundle for its signing and TLS certificates
	CRLs        []string  `yaml:"crls,omitempty"` // its CA's revocation lists (PEM or DER), for SIG-07
	Certificate string    `yaml:"certificate"`    // its signing certificate, PEM
	Admin       *Admin    `yaml:"admin,omitempty"`
	LDAPURL     string    `yaml:"ldap_url,omitempty"` // the index it uses, when known
	// LDIF is where the provider publishes its signed LDIF (.p7m, RFC 6109
	// §4.5.6): a file path relative to the target file, or an https URL.
	LDIF         string   `yaml:"ldif,omitempty"`
	Capabilities []string `yaml:"capabilities,omitempty"`
	// MaxMessageBytes and MaxRecipients are the limits the provider declares
	// (0: the published service levels, 50 MB and 500; limits.go).
	MaxMessageBytes int64 `yaml:"max_message_bytes,omitempty"`
	MaxRecipients   int   `yaml:"max_recipients,omitempty"`
	// BulkAccounts are numbered test mailboxes (bulk.go) for messages to
	// hundreds of recipients and for load from several accounts.
	BulkAccounts *BulkAccounts `yaml:"bulk_accounts,omitempty"`
	// Counterpart is the honest provider the suite pairs with the target for
	// flows that need a second provider (the reference beta in the lab).
	Counterpart *Target `yaml:"counterpart,omitempty"`
	// External is an ordinary (non-PEC) mail domain the suite may use for
	// external recipients and ordinary senders (RFC 6109 §2.2.1 "esterno").
	External *Ordinary `yaml:"external,omitempty"`
	// Peer is gamma, the scriptable peer the probe runs (package
	// probe/peer): a provider listed in the index the target uses.
	Peer *Peer `yaml:"peer,omitempty"`
	// Lab is the view of the lab the target joined (written by the lab).
	Lab *LabView `yaml:"lab,omitempty"`
	// Issue is read by `pecspec lab up --enrol` only (certificates the lab
	// CA issues for a provider under test); a run ignores it.
	Issue *Issue `yaml:"issue,omitempty"`

	dir string // directory of the file, for relative paths
}

// LabView is what the lab says about its own routing: its directory, its DNS
// server, the port of its MXs, and where its providers deliver each domain
// (host:port). The preflight checks the target's domains against it.
type LabView struct {
	Dir    string            `yaml:"dir"`
	DNS    string            `yaml:"dns,omitempty"`
	MXPort int               `yaml:"mx_port,omitempty"`
	Routes map[string]string `yaml:"routes,omitempty"`
}

// Issue mirrors the enrolment's issue section (reference/lab/enrol.go).
type Issue struct {
	SigningCSR string   `yaml:"signing_csr,omitempty"`
	SigningKey bool     `yaml:"signing_key,omitempty"`
	TLS        []string `yaml:"tls,omitempty"`
	TLSCSR     string   `yaml:"tls_csr,omitempty"`
}

// Account is a mailbox the suite may use. Name is the handle scenarios use in
// step text ("alice"); when empty it is the local part of Address. Username
// is the login name (SMTP AUTH, IMAP LOGIN) when it is not the address.
type Account struct {
	Name     string `yaml:"name,omitempty"`
	Address  string `yaml:"address"`
	Username string `yaml:"username,omitempty"`
	Password string `yaml:"password"`
}

// Login is the name the account logs in with.
func (a Account) Login() string {
	if a.Username != "" {
		return a.Username
	}
	return a.Address
}

// Handle returns the account's name in step text.
func (a Account) Handle() string {
	if a.Name != "" {
		return a.Name
	}
	local, _, _ := strings.Cut(a.Address, "@")
	return local
}

// Peer describes gamma for the probe: its identity in the index, where its
// MX listens (the target routes the peer's domain there), its TLS
// certificate, and the token with its signing key and with the key of a
// provider that is not in the index. Paths are relative to the target file.
type Peer struct {
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

// Ordinary is a plain mail domain: its MX (where ordinary mail is sent from)
// and an IMAP server where the suite reads what its accounts received.
type Ordinary struct {
	Domain   string    `yaml:"domain"`
	MX       Endpoint  `yaml:"mx"`
	IMAP     Endpoint  `yaml:"imap"`
	POP3     Endpoint  `yaml:"pop3,omitempty"`
	Accounts []Account `yaml:"accounts"`
	// BulkAccounts are numbered test mailboxes of the domain (bulk.go).
	BulkAccounts *BulkAccounts `yaml:"bulk_accounts,omitempty"`
}

// Account returns the ordinary account whose handle or address is name.
func (o *Ordinary) Account(name string) (Account, bool) {
	for _, a := range o.Accounts {
		if a.Handle() == name || strings.EqualFold(a.Address, name) {
			return a, true
		}
	}
	return Account{}, false
}

// Endpoint is a host:port with its TLS mode: implicit, starttls or none.
// TLSName, when set, is the name the server's certificate must carry (the
// connection goes to Host): an MX reached by address but known by its name.
type Endpoint struct {
	Host    string `yaml:"host"`
	Port    int    `yaml:"port"`
	TLS     string `yaml:"tls,omitempty"`
	TLSName string `yaml:"tls_name,omitempty"`
}

// serverName is the name the certificate is checked against.
func (e Endpoint) serverName() string {
	if e.TLSName != "" {
		return e.TLSName
	}
	return e.Host
}

// Addr returns host:port.
func (e Endpoint) Addr() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

// Admin is the reference's admin API (clock, withholding, health).
type Admin struct {
	URL   string `yaml:"url"`
	Token string `yaml:"token,omitempty"`
}

// TLS modes of an Endpoint.
const (
	TLSImplicit = "implicit"
	TLSStartTLS = "starttls"
	TLSNone     = "none"
)

// ErrTarget wraps every target-file problem.
var ErrTarget = errors.New("probe: target")

// LoadTarget reads and validates a target file; relative paths in it are
// relative to the file. A key the file format does not know is refused,
// naming it.
func LoadTarget(path string) (*Target, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTarget, err)
	}
	var t Target
	if err := strictyaml.Decode(data, &t); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrTarget, path, err)
	}
	t.setDir(filepath.Dir(path))
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &t, nil
}

func (t *Target) setDir(dir string) {
	t.dir = dir
	if t.Counterpart != nil {
		t.Counterpart.setDir(dir)
	}
}

// CRLFiles are the CRL paths, resolved.
func (t *Target) CRLFiles() []string {
	var out []string
	for _, f := range t.CRLs {
		out = append(out, t.Path(f))
	}
	return out
}

// Path resolves p (Trust, Certificate) against the target file's directory.
func (t *Target) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(t.dir, p)
}

// Save writes t as YAML to path.
func (t *Target) Save(path string) error {
	data, err := yaml.Marshal(t)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrTarget, err)
	}
	return os.WriteFile(path, data, 0o600)
}

// Validate returns every problem of the file at once.
func (t *Target) Validate() error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrTarget}, a...)...))
	}
	if t.Name == "" {
		bad("name is empty")
	}
	if len(t.Domains) == 0 {
		bad("%s: domains is empty", t.Name)
	}
	if !strings.Contains(t.ServiceAddress, "@") {
		bad("%s: service_address %q is not an address", t.Name, t.ServiceAddress)
	}
	endpoints := map[string]Endpoint{"submission": t.Submission, "imap": t.IMAP, "mx": t.MX}
	if t.POP3 != (Endpoint{}) {
		endpoints["pop3"] = t.POP3
	}
	for field, e := range endpoints {
		if e.Host == "" || e.Port <= 0 || e.Port > 65535 {
			bad("%s: %s endpoint %q is incomplete", t.Name, field, e.Addr())
		}
		if e.TLS != "" && e.TLS != TLSImplicit && e.TLS != TLSStartTLS && e.TLS != TLSNone {
			bad("%s: %s tls %q is not implicit, starttls or none", t.Name, field, e.TLS)
		}
	}
	if len(t.Accounts) == 0 {
		bad("%s: no accounts", t.Name)
	}
	if g := t.Peer; g != nil {
		if g.Domain == "" || g.MXListen == "" || g.TokenLabel == "" || g.KeyLabel == "" || g.Certificate == "" || g.ReceiptsAddress == "" {
			bad("%s: peer needs domain, mx_listen, token_label, key_label, certificate and receipts_address", t.Name)
		}
	}
	if x := t.External; x != nil {
		if x.Domain == "" || x.MX.Port <= 0 || x.IMAP.Port <= 0 || len(x.Accounts) == 0 {
			bad("%s: external needs domain, mx, imap and accounts", t.Name)
		}
	}
	if t.Counterpart != nil {
		if err := t.Counterpart.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// SimulatedVirusHandle names the outcome-simulation mailbox of a target that
// declares the capability simulated-virus: envelopes for it are taken as
// infected, so it is never an ordinary user.
const SimulatedVirusHandle = "infetto"

// UserAccounts are the accounts that behave as ordinary users: all but the
// outcome-simulation mailbox.
func (t *Target) UserAccounts() []Account {
	var out []Account
	for _, a := range t.Accounts {
		if a.Handle() != SimulatedVirusHandle {
			out = append(out, a)
		}
	}
	return out
}

// Account returns the account whose handle or address is name.
func (t *Target) Account(name string) (Account, bool) {
	for _, a := range t.Accounts {
		if a.Handle() == name || strings.EqualFold(a.Address, name) {
			return a, true
		}
	}
	if t.ReceiptsMailbox.Address != "" && (t.ReceiptsMailbox.Handle() == name || strings.EqualFold(t.ReceiptsMailbox.Address, name)) {
		return t.ReceiptsMailbox, true
	}
	return Account{}, false
}
