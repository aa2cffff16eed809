package lab

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
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
	MX              endpoint    `yaml:"mx"`
	Accounts        []Account   `yaml:"accounts"`
	Trust           string      `yaml:"trust"`
	CRLs            []string    `yaml:"crls,omitempty"`
	Certificate     string      `yaml:"certificate"`
	Admin           admin       `yaml:"admin"`
	LDAPURL         string      `yaml:"ldap_url"`
	LDIF            string      `yaml:"ldif,omitempty"`
	Capabilities    []string    `yaml:"capabilities"`
	MaxMessageBytes int64       `yaml:"max_message_bytes,omitempty"`
	MaxRecipients   int         `yaml:"max_recipients,omitempty"`
	BulkAccounts    *bulk       `yaml:"bulk_accounts,omitempty"`
	Counterpart     *target     `yaml:"counterpart,omitempty"`
	External        *ordinary   `yaml:"external,omitempty"`
	Peer            *peerTarget `yaml:"peer,omitempty"`
}

type ordinary struct {
	Domain   string    `yaml:"domain"`
	MX       endpoint  `yaml:"mx"`
	IMAP     endpoint  `yaml:"imap"`
	Accounts []Account `yaml:"accounts"`
	Bulk     *bulk     `yaml:"bulk_accounts,omitempty"`
}

type endpoint struct {
	Host string `yaml:"host"`
	Port int    `yaml:"port"`
	TLS  string `yaml:"tls"`
}

type admin struct {
	URL   string `yaml:"url"`
	Token string `yaml:"token"`
}

func (l *Lab) target(p *Instance) *target {
	return &target{
		Name: p.Name, ProviderName: p.ProviderName, Domains: []string{p.Domain}, ServiceAddress: p.Service,
		ReceiptsMailbox: p.Receipts,
		Submission:      endpoint{"127.0.0.1", p.Ports.Submission, "implicit"},
		IMAP:            endpoint{"127.0.0.1", p.Ports.IMAP, "implicit"},
		MX:              endpoint{"127.0.0.1", p.Ports.MX, "starttls"},
		Accounts:        p.Accounts,
		Trust:           "ca.pem",
		CRLs:            []string{"ca.crl"},
		Certificate:     filepath.Join(p.Name, "signer.pem"),
		Admin:           admin{URL: "http://127.0.0.1:" + strconv.Itoa(p.Ports.Admin), Token: p.AdminToken},
		LDAPURL:         l.LDAPURL,
		LDIF:            filepath.Join("index", p.Name+".ldif.p7m"),
		Capabilities:    []string{"antivirus", "controllable-clock"},
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
		t.Counterpart = l.target(l.Providers[(i+1)%len(l.Providers)])
		if x := l.External; x != nil {
			t.External = &ordinary{Domain: x.Domain, Accounts: x.Accounts, Bulk: l.bulk(),
				MX:   endpoint{"127.0.0.1", x.Ports.MX, "starttls"},
				IMAP: endpoint{"127.0.0.1", x.Ports.IMAP, "implicit"}}
		}
		t.Peer = l.peerTarget()
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

// TargetFileOf is the target file that makes the named instance the target
// and the other one its counterpart: what a provider under test would write.
func (l *Lab) TargetFileOf(name string) string {
	return filepath.Join(l.Dir, "target-"+name+".yaml")
}

// Describe prints every endpoint, mailbox and password of the lab.
func (l *Lab) Describe(w io.Writer) {
	fmt.Fprintf(w, "lab directory   %s\nCA certificate  %s\nindex (LDAP)    %s  base o=postacert\n",
		l.Dir, l.CAFile(), l.LDAPURL)
	if l.clamd != nil {
		fmt.Fprintf(w, "clamd           unix:%s\n", l.clamd.Socket)
	}
	fmt.Fprintf(w, "target file     %s\n", l.TargetFile())
	if g := l.Peer; g != nil {
		fmt.Fprintf(w, "\n%s  %q  %s  (scriptable peer: listed in the index, run by `pecspec run`; its MX 127.0.0.1:%d is served only during a run)\n",
			g.Name, g.ProviderName, g.Domain, g.Ports.MX)
		fmt.Fprintf(w, "  token       %s (SOFTHSM2_CONF=%s, PIN %s), keys %q and %q (%s, not in the index)\n",
			g.TokenLabel, g.SoftHSMConf, g.PIN, KeyLabel, UnlistedKeyLabel, UnlistedDomain)
	}
	for _, p := range l.Providers {
		fmt.Fprintf(w, "\n%s  %q  %s\n", p.Name, p.ProviderName, p.Domain)
		fmt.Fprintf(w, "  submission  smtps://127.0.0.1:%d   (implicit TLS, AUTH PLAIN)\n", p.Ports.Submission)
		fmt.Fprintf(w, "  mx          smtp://127.0.0.1:%d    (STARTTLS)\n", p.Ports.MX)
		fmt.Fprintf(w, "  imap        imaps://127.0.0.1:%d\n", p.Ports.IMAP)
		fmt.Fprintf(w, "  admin       http://127.0.0.1:%d   (Authorization: Bearer %s)\n", p.Ports.Admin, p.AdminToken)
		fmt.Fprintf(w, "  token       %s (SOFTHSM2_CONF=%s, PIN %s), key %q\n", p.TokenLabel, p.SoftHSMConf, p.PIN, KeyLabel)
		fmt.Fprintf(w, "  service     %s   receipts mailbox %s / %s\n", p.Service, p.Receipts.Address, p.Receipts.Password)
		for _, a := range p.Accounts {
			fmt.Fprintf(w, "  mailbox     %-24s %s\n", a.Address, a.Password)
		}
	}
}
