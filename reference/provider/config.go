// Package provider is the composition root of one reference PEC provider
// instance: it builds the access, reception and delivery points (RFC 6109
// §2.2) from a Config, wires them to the real components (PKCS#11 token, LDAP
// index, clamd, Maildir, durable SMTP queue) and serves SMTP submission, MX,
// and the admin API; users read their Maildirs over IMAPS and POP3S served by
// Dovecot (started by the lab on the same Maildirs). It is the only package
// importing every role.
package provider

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config describes one instance. `pecref config describe` prints a sample.
type Config struct {
	Name            string   `yaml:"name"`             // short label: alpha
	ProviderName    string   `yaml:"provider_name"`    // providerName, gestore-emittente, O/CN of the certificate
	Domains         []string `yaml:"domains"`          // managedDomains; the first is the mail domain of msgids
	ServiceAddress  string   `yaml:"service_address"`  // posta-certificata@<domain> (RFC 6109 §2.2.6)
	ReceiptsMailbox string   `yaml:"receipts_mailbox"` // mailReceipt (RFC 6109 §2.2.5, §4.5.4)
	DataDir         string   `yaml:"data_dir"`         // mail/, queue/
	Listen          Listen   `yaml:"listen"`
	TLS             TLSFiles `yaml:"tls"`   // server certificate for SMTP
	Trust           string   `yaml:"trust"` // PEM CAs of PEC signing and TLS certificates
	HSM             HSM      `yaml:"hsm"`
	Index           Index    `yaml:"index"`
	Clamd           Clamd    `yaml:"clamd"`
	// Routes maps a mail domain to the host:port of its MX (a transport map);
	// they take precedence over DNS.
	Routes map[string]string `yaml:"routes"`
	// DNS routes the other domains by their MX records (RFC 5321 §5.1).
	DNS DNS `yaml:"dns,omitempty"`
	// PlainDomains may be reached without STARTTLS (ordinary mail domains).
	PlainDomains []string `yaml:"plain_domains,omitempty"`
	Users        []User   `yaml:"users"`
	// MailOwner owns the Maildirs under data_dir/mail: the mail user of the
	// IMAP/POP3 server that serves them (Dovecot's mail processes never run
	// as root). Absent: this process's user.
	MailOwner  *Owner `yaml:"mail_owner,omitempty"`
	AdminToken string `yaml:"admin_token"`
	// MaxTotalBytes bounds size × recipients (RFC 6109 §3.1.1; default 30 MB).
	MaxTotalBytes int64 `yaml:"max_total_bytes,omitempty"`
	// QueueLifetime is the SMTP idleness limit (RFC 6109 §2.2.2, TIM-08; default 24h).
	QueueLifetime time.Duration `yaml:"queue_lifetime,omitempty"`
	// QueueWorkers is how many SMTP deliveries run at once (default 16): each
	// waits on the peer's processing, so they overlap rather than queue.
	QueueWorkers int `yaml:"queue_workers,omitempty"`
	// ControllableClock lets the admin API advance the clock (lab only).
	ControllableClock bool `yaml:"controllable_clock,omitempty"`
	// NoticeHTML gives the text of every system message a text/html
	// alternative (RFC 6109 §4.3.1), as most observed providers do.
	NoticeHTML bool `yaml:"notice_html,omitempty"`
	// Limits bound connections, the TLS handshake and idle time, and failed
	// AUTHs on the SMTP and admin listeners (limits.go).
	Limits Limits `yaml:"limits,omitempty"`
}

// Listen holds the listening addresses (host:port; port 0 picks one).
type Listen struct {
	Submission string `yaml:"submission"` // implicit TLS, AUTH PLAIN
	MX         string `yaml:"mx"`         // STARTTLS offered, plaintext accepted
	Admin      string `yaml:"admin"`      // HTTP, loopback only
}

// TLSFiles names a PEM certificate chain and key.
type TLSFiles struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// HSM locates the signing key in a PKCS#11 token (RFC 6109 §5.1).
type HSM struct {
	Module      string `yaml:"module,omitempty"` // default SoftHSM2
	SoftHSMConf string `yaml:"softhsm_conf,omitempty"`
	Token       string `yaml:"token"`
	PIN         string `yaml:"pin"`
	KeyLabel    string `yaml:"key_label"`
	Sessions    int    `yaml:"sessions,omitempty"`
}

// Index is where the index of providers comes from (RFC 6109 §4.5): the LDAP
// server at URL, or the providers' published LDIF files (.p7m, each verified
// against the trust anchors and its own provider certificate; IDX-09).
type Index struct {
	URL  string   `yaml:"url,omitempty"`
	Base string   `yaml:"base,omitempty"` // default o=postacert
	LDIF []string `yaml:"ldif,omitempty"`
}

// DNS is where the queue looks up MX records: a DNS server (the lab's) and
// the SMTP port of the mail exchangers it names.
type DNS struct {
	Server string `yaml:"server,omitempty"`  // host:port; "" = static routes only
	MXPort int    `yaml:"mx_port,omitempty"` // default 25
}

// Clamd is the antivirus daemon's socket (RFC 6109 §5.4).
type Clamd struct {
	Socket string `yaml:"socket"`
}

// Owner is a numeric user and group.
type Owner struct {
	UID int `yaml:"uid"`
	GID int `yaml:"gid"`
}

// User is a mailbox with its password and policy.
type User struct {
	Address  string `yaml:"address"`
	Password string `yaml:"password"`
	// QuotaBytes bounds the mailbox (0: unbounded); a full mailbox gets an
	// avviso di mancata consegna (RFC 6109 §3.3.3).
	QuotaBytes int64 `yaml:"quota_bytes,omitempty"`
	// RefuseOrdinary refuses ordinary (non-PEC) mail at SMTP level instead of
	// delivering it in a busta di anomalia (RFC 6109 §2.2.2).
	RefuseOrdinary bool `yaml:"refuse_ordinary,omitempty"`
	// SimulatedVirus makes the mailbox an outcome-simulation address (lab
	// only, STYLE 20): an envelope for it is taken as infected at reception,
	// as if the antivirus had found a virus the sending provider's missed
	// (RFC 6109 §3.2.3), so the virus found in transit can be tested.
	SimulatedVirus bool `yaml:"simulated_virus,omitempty"`
}

func (c *Config) refusesOrdinary(address string) bool {
	u := c.user(address)
	return u != nil && u.RefuseOrdinary
}

func (c *Config) simulatesVirus(address string) bool {
	u := c.user(address)
	return u != nil && u.SimulatedVirus
}

func (c *Config) user(address string) *User {
	for i, u := range c.Users {
		if strings.EqualFold(u.Address, address) {
			return &c.Users[i]
		}
	}
	return nil
}

// LoadConfig reads and validates a config file.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Config
	if err := yaml.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("provider: %s: %w", path, err)
	}
	c.defaults()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &c, nil
}

func (c *Config) defaults() {
	if c.MaxTotalBytes == 0 {
		c.MaxTotalBytes = 30 << 20
	}
	if c.QueueWorkers == 0 {
		c.QueueWorkers = 16
	}
	if c.QueueLifetime == 0 {
		c.QueueLifetime = 24 * time.Hour
	}
	if c.Index.Base == "" {
		c.Index.Base = "o=postacert"
	}
	c.Limits = c.Limits.withDefaults()
}

// ErrConfig wraps every configuration problem.
var ErrConfig = errors.New("provider: config")

// Validate returns every problem at once (STYLE 18).
func (c *Config) Validate() error {
	var errs []error
	need := func(ok bool, what string) {
		if !ok {
			errs = append(errs, fmt.Errorf("%w: %s", ErrConfig, what))
		}
	}
	need(c.Name != "", "name is empty")
	need(c.ProviderName != "", "provider_name is empty")
	need(len(c.Domains) > 0, "domains is empty")
	need(strings.Contains(c.ServiceAddress, "@"), "service_address is not an address")
	need(strings.Contains(c.ReceiptsMailbox, "@"), "receipts_mailbox is not an address")
	need(c.DataDir != "", "data_dir is empty")
	need(c.Listen.Submission != "" && c.Listen.MX != "", "listen needs submission and mx")
	need(c.TLS.Cert != "" && c.TLS.Key != "", "tls needs cert and key")
	need(c.Trust != "", "trust is empty")
	need(c.HSM.Token != "" && c.HSM.KeyLabel != "", "hsm needs token and key_label")
	need((c.Index.URL != "") != (len(c.Index.LDIF) > 0), "index needs exactly one of url and ldif")
	need(c.Clamd.Socket != "", "clamd.socket is empty")
	if c.DNS.Server != "" {
		_, _, err := net.SplitHostPort(c.DNS.Server)
		need(err == nil, "dns.server "+c.DNS.Server+" is not host:port")
	}
	if c.DNS.Server != "" {
		_, _, err := net.SplitHostPort(c.DNS.Server)
		need(err == nil, "dns.server "+c.DNS.Server+" is not host:port")
	}
	for _, u := range c.Users {
		need(strings.Contains(u.Address, "@") && u.Password != "", "user "+u.Address+" needs an address and a password")
	}
	errs = append(errs, c.Limits.validate()...)
	return errors.Join(errs...)
}
