package lab

import (
	"path/filepath"
)

// target mirrors the target file format of probe.Target (DESIGN.md "The target
// file"). reference/ may not import probe (STYLE 4), so the lab writes the
// same YAML shape; the integration test loads what it writes with probe.LoadTarget.
type target struct {
	Name            string      `yaml:"name"`
	ProviderName    string      `yaml:"provider_name"`
	Domains         []string    `yaml:"domains"`
	ServiceAddress  string      `yaml:"service_address"`
	ReceiptsMailbox Account     `yaml:"receipts_mailbox"`
	Submission      endpoint    `yaml:"submission"`
	IMAP            endpoint    `yaml:"imap"`
	POP3            endpoint    `yaml:"pop3,omitempty"`
	MX              endpoint    `yaml:"mx"`
	Accounts        []Account   `yaml:"accounts"`
	Trust           string      `yaml:"trust"`
	CRLs            []string    `yaml:"crls,omitempty"`
	Certificate     string      `yaml:"certificate"`
	Admin           *admin      `yaml:"admin,omitempty"`
	LDAPURL         string      `yaml:"ldap_url"`
	LDIF            string      `yaml:"ldif,omitempty"`
	Capabilities    []string    `yaml:"capabilities"`
	MaxMessageBytes int64       `yaml:"max_message_bytes,omitempty"`
	MaxRecipients   int         `yaml:"max_recipients,omitempty"`
	BulkAccounts    *bulk       `yaml:"bulk_accounts,omitempty"`
	Counterpart     *target     `yaml:"counterpart,omitempty"`
	External        *ordinary   `yaml:"external,omitempty"`
	Peer            *peerTarget `yaml:"peer,omitempty"`
	Lab             *labSection `yaml:"lab,omitempty"`
}

// labSection is the lab's view, for the run's preflight and for
// `pecspec run --lab`: where the lab runs, its DNS, and where its providers
// deliver each domain (probe.LabView).
type labSection struct {
	Dir    string            `yaml:"dir"`
	DNS    string            `yaml:"dns,omitempty"`
	MXPort int               `yaml:"mx_port,omitempty"`
	Routes map[string]string `yaml:"routes,omitempty"`
}

type ordinary struct {
	Domain   string    `yaml:"domain"`
	MX       endpoint  `yaml:"mx"`
	IMAP     endpoint  `yaml:"imap"`
	POP3     endpoint  `yaml:"pop3,omitempty"`
	Accounts []Account `yaml:"accounts"`
	Bulk     *bulk     `yaml:"bulk_accounts,omitempty"`
}

type endpoint struct {
	Host string `yaml:"host"`
	Port int    `yaml:"port"`
	TLS  string `yaml:"tls,omitempty"`
}

type admin struct {
	URL   string `yaml:"url"`
	Token string `yaml:"token"`
}

// Capabilities are what a lab instance declares in its target files: every
// optional capability of the suite (scenarios/capabilities.go).
var Capabilities = []string{"controllable-clock", "receives-ordinary-mail", "sends-to-ordinary-mail", "simulated-virus"}

func (l *Lab) target(p *Instance) *target {
	host := l.layout.Addr()
	return &target{
		Name: p.Name, ProviderName: p.ProviderName, Domains: []string{p.Domain}, ServiceAddress: p.Service,
		ReceiptsMailbox: p.Receipts,
		Submission:      endpoint{host, p.Ports.Submission, "implicit"},
		IMAP:            endpoint{host, p.Ports.IMAP, "implicit"},
		POP3:            endpoint{host, p.Ports.POP3, "implicit"},
		MX:              endpoint{p.MXHost, p.Ports.MX, "starttls"},
		Accounts:        p.Accounts,
		Trust:           "ca.pem",
		CRLs:            []string{"ca.crl"},
		Certificate:     filepath.Join(p.Name, "signer.pem"),
		Admin:           &admin{URL: "http://" + l.layout.hostPort(p.Ports.Admin), Token: p.AdminToken},
		LDAPURL:         l.LDAPURL,
		LDIF:            filepath.Join("index", p.Name+".ldif.p7m"),
		Capabilities:    Capabilities,
		// The access point's limits (accesspoint/server.go: 500 RCPT).
		MaxMessageBytes: l.maxMessageBytes(), MaxRecipients: 500, BulkAccounts: l.bulk(),
	}
}

// writeTargets writes, in the lab directory, <name>.yaml per instance (the
// provider alone), target-<name>.yaml (that provider as the target, the other
// as its counterpart, and the external domain) and reference.yaml, which is
// target-alpha.yaml.
func (l *Lab) writeTargets() error {
	for i, p := range l.Providers {
		if err := saveYAML(filepath.Join(l.Dir, p.Name+".yaml"), l.target(p)); err != nil {
			return err
		}
		t := l.target(p)
		l.surround(t, l.target(l.Providers[(i+1)%len(l.Providers)]))
		if err := saveYAML(l.TargetFileOf(p.Name), t); err != nil {
			return err
		}
		if i == 0 {
			if err := saveYAML(l.TargetFile(), t); err != nil {
				return err
			}
		}
	}
	return nil
}

// surround adds to t what the lab offers around a target: the counterpart,
// the external domain, gamma and the lab's view.
func (l *Lab) surround(t, counterpart *target) {
	t.Counterpart = counterpart
	if x := l.External; x != nil {
		t.External = &ordinary{Domain: x.Domain, Accounts: x.Accounts, Bulk: l.bulk(),
			MX:   endpoint{x.MXHost, x.Ports.MX, "starttls"},
			IMAP: endpoint{x.IMAPHost, x.Ports.IMAP, "implicit"},
			POP3: endpoint{x.IMAPHost, x.Ports.POP3, "implicit"}}
	}
	t.Peer = l.peerTarget()
	t.Lab = &labSection{Dir: l.Dir, DNS: l.DNS.Addr, MXPort: l.layout.mxPort, Routes: l.labRoutes()}
}

// putTarget is DIR/target-<name>.yaml (and DIR/target-put.yaml when p is
// the only PUT): the enrolled PUT as the target, beta as its counterpart;
// paths relative to the lab directory.
func (l *Lab) putTarget(p *PUT) *target {
	t := &target{Name: p.Name, ProviderName: p.ProviderName, Domains: p.Domains, ServiceAddress: p.ServiceAddress,
		ReceiptsMailbox: p.ReceiptsMailbox, Submission: p.Submission, IMAP: p.IMAP, POP3: p.POP3, MX: p.MX,
		Accounts: p.Accounts, Trust: filepath.Join(p.dir, putTrust), CRLs: []string{filepath.Join(p.dir, putCRL)},
		Certificate: filepath.Join(p.dir, putSigner), Admin: p.Admin, LDAPURL: l.LDAPURL,
		LDIF: p.path(p.LDIF), Capabilities: p.Capabilities}
	if t.MX.TLS == "" {
		t.MX.TLS = "starttls"
	}
	for name := range p.crls {
		t.CRLs = append(t.CRLs, filepath.Join(p.dir, name))
	}
	if t.LDIF == "" && p.ldif != nil {
		t.LDIF = filepath.Join(p.dir, putLDIFP7M)
	}
	l.surround(t, l.target(l.Provider("beta")))
	return t
}

// TargetFileOf is the target file that makes the named instance the target
// and the other one its counterpart: what a provider under test would write.
func (l *Lab) TargetFileOf(name string) string {
	return filepath.Join(l.Dir, "target-"+name+".yaml")
}
