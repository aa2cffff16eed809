package lab

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"gopkg.in/yaml.v3"
)

// View is what `pecspec lab up` prints: every endpoint, port, mailbox,
// password and token of the lab, as tables (Describe) or JSON.
type View struct {
	Dir        string  `json:"dir"`
	CA         string  `json:"ca"`
	TargetFile string  `json:"target_file"`
	Index      string  `json:"index"` // LDAP URL of slapd; base o=postacert
	DNS        string  `json:"dns"`   // host:port, UDP and TCP
	MXPort     int     `json:"mx_port"`
	PortsBase  int     `json:"ports_base,omitempty"` // --ports BASE of a fixed layout
	Clamd      string  `json:"clamd,omitempty"`
	Control    string  `json:"control,omitempty"` // the control socket (pecspec lab status|stop|start|restart)
	Parties    []Party `json:"parties"`
	Checklist  string  `json:"checklist,omitempty"` // what an enrolled provider under test configures
}

// Party is one provider or mail domain of the lab.
type Party struct {
	Name         string         `json:"name"`
	Kind         string         `json:"kind"` // reference, peer, external
	ProviderName string         `json:"provider_name,omitempty"`
	Domain       string         `json:"domain"`
	Service      string         `json:"service_address,omitempty"`
	Endpoints    []ViewEndpoint `json:"endpoints"`
	Accounts     []ViewAccount  `json:"accounts,omitempty"`
	Token        *ViewToken     `json:"token,omitempty"`
}

// ViewEndpoint is one endpoint: smtps://127.0.0.1:10465 and how to use it.
type ViewEndpoint struct {
	Name string `json:"name"` // submission, mx, imap, admin
	URL  string `json:"url"`
	Note string `json:"note,omitempty"`
}

// ViewAccount is one mailbox and its password.
type ViewAccount struct {
	Address  string `json:"address"`
	Password string `json:"password"`
	Note     string `json:"note,omitempty"`
}

// ViewToken is a party's SoftHSM2 token.
type ViewToken struct {
	Label       string   `json:"label"`
	SoftHSMConf string   `json:"softhsm2_conf"`
	PIN         string   `json:"pin"`
	Keys        []string `json:"keys"`
}

// View describes the running lab.
func (l *Lab) View() View {
	v := View{Dir: l.Dir, CA: l.CAFile(), TargetFile: l.TargetFile(), Index: l.LDAPURL, DNS: l.DNS.Addr,
		MXPort: l.layout.mxPort, PortsBase: l.layout.base, Control: l.control}
	if l.clamd != nil {
		v.Clamd = "unix:" + l.clamd.Socket
	}
	for _, p := range l.Providers {
		v.Parties = append(v.Parties, l.providerView(p))
	}
	if g := l.Peer; g != nil {
		v.Parties = append(v.Parties, Party{Name: g.Name, Kind: "peer", ProviderName: g.ProviderName, Domain: g.Domain,
			Service: g.Service,
			Endpoints: []ViewEndpoint{{Name: "mx", URL: "smtp://" + g.MXAddr(),
				Note: "the scriptable peer: listed in the index, its MX served by pecspec run only"}},
			Token: &ViewToken{Label: g.TokenLabel, SoftHSMConf: g.SoftHSMConf, PIN: g.PIN,
				Keys: []string{KeyLabel, UnlistedKeyLabel + " (" + UnlistedDomain + ", not in the index)"}}})
	}
	if x := l.External; x != nil {
		ext := Party{Name: "external", Kind: "external", Domain: x.Domain, Endpoints: []ViewEndpoint{
			{Name: "mx", URL: "smtp://" + x.MXAddr(), Note: "ordinary mail, no PEC"},
			{Name: "imap", URL: "imaps://" + net.JoinHostPort(x.IMAPHost, strconv.Itoa(x.Ports.IMAP)), Note: "Dovecot"},
			{Name: "pop3", URL: "pop3s://" + net.JoinHostPort(x.IMAPHost, strconv.Itoa(x.Ports.POP3)), Note: "Dovecot"}}}
		for _, a := range x.Accounts {
			ext.Accounts = append(ext.Accounts, ViewAccount{Address: a.Address, Password: a.Password})
		}
		v.Parties = append(v.Parties, ext)
	}
	for _, p := range l.PUTs {
		v.Checklist += l.Checklist(p)
	}
	return v
}

func (l *Lab) providerView(p *Instance) Party {
	pv := Party{Name: p.Name, Kind: "reference", ProviderName: p.ProviderName, Domain: p.Domain, Service: p.Service,
		Endpoints: []ViewEndpoint{
			{Name: "submission", URL: "smtps://" + l.layout.hostPort(p.Ports.Submission), Note: "implicit TLS, AUTH PLAIN"},
			{Name: "mx", URL: "smtp://" + p.MXAddr(), Note: "STARTTLS offered, no AUTH"},
			{Name: "imap", URL: "imaps://" + l.layout.hostPort(p.Ports.IMAP), Note: "Dovecot"},
			{Name: "pop3", URL: "pop3s://" + l.layout.hostPort(p.Ports.POP3), Note: "Dovecot"},
			{Name: "admin", URL: "http://" + l.layout.hostPort(p.Ports.Admin), Note: "Authorization: Bearer " + p.AdminToken},
		},
		Token: &ViewToken{Label: p.TokenLabel, SoftHSMConf: p.SoftHSMConf, PIN: p.PIN, Keys: []string{KeyLabel}}}
	for _, a := range p.Accounts {
		note := ""
		if a.Name == VirusMailbox {
			note = "its envelopes count as infected (capability simulated-virus)"
		}
		pv.Accounts = append(pv.Accounts, ViewAccount{Address: a.Address, Password: a.Password, Note: note})
	}
	pv.Accounts = append(pv.Accounts, ViewAccount{Address: p.Receipts.Address, Password: p.Receipts.Password,
		Note: "receipts mailbox (mailReceipt) of " + p.Service})
	notes := map[string]string{FullMailbox: "always full: its mail gets a mancata consegna", PECOnlyMailbox: "refuses ordinary mail"}
	for _, a := range policyMailboxes(p) {
		local, _, _ := strings.Cut(a.Address, "@")
		pv.Accounts = append(pv.Accounts, ViewAccount{Address: a.Address, Password: a.Password, Note: notes[local]})
	}
	return pv
}

// policyMailboxes are the instance's piena@ and solopec@ as its pecref
// configuration (written by the lab) has them.
func policyMailboxes(p *Instance) []Account {
	data, err := os.ReadFile(filepath.Join(p.Dir, "pecref.yaml"))
	if err != nil {
		return nil
	}
	var cfg struct {
		Users []Account `yaml:"users"`
	}
	if yaml.Unmarshal(data, &cfg) != nil {
		return nil
	}
	var out []Account
	for _, u := range cfg.Users {
		if local, _, _ := strings.Cut(u.Address, "@"); local == FullMailbox || local == PECOnlyMailbox {
			out = append(out, Account{Address: u.Address, Password: u.Password})
		}
	}
	return out
}

// Describe prints the view as tables: the lab, the endpoints, the
// mailboxes and their passwords, the tokens; then, with a provider under
// test enrolled, its checklist.
func (l *Lab) Describe(w io.Writer) {
	v := l.View()
	host, port, _ := net.SplitHostPort(v.DNS)
	fmt.Fprintf(w, "lab       %s  (target file %s, CA %s)\n", v.Dir, v.TargetFile, v.CA)
	fmt.Fprintf(w, "index     %s  base o=postacert\n", v.Index)
	fmt.Fprintf(w, "DNS       %s  UDP and TCP, MX and A records of every lab domain: dig @%s -p %s MX pec.beta.test\n", v.DNS, host, port)
	fmt.Fprintf(w, "MX port   %d  every domain's MX at its own address", v.MXPort)
	if v.PortsBase != 0 {
		fmt.Fprintf(w, "; fixed layout --ports %d (docs/testing-your-provider.md)", v.PortsBase)
	}
	fmt.Fprintln(w)
	if v.Clamd != "" {
		fmt.Fprintf(w, "clamd     %s\n", v.Clamd)
	}
	if v.Control != "" {
		fmt.Fprintf(w, "control   %s  pecspec lab status|stop|start|restart [NAME] --dir %s\n", v.Control, v.Dir)
	}
	var tables strings.Builder
	tw := tabwriter.NewWriter(&tables, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nPARTY\tDOMAIN\tENDPOINT\tURL\tNOTE")
	for _, p := range v.Parties {
		for i, e := range p.Endpoints {
			name, domain := p.Name, p.Domain
			if i > 0 {
				name, domain = "", ""
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name, domain, e.Name, e.URL, e.Note)
		}
	}
	fmt.Fprintln(tw, "\nMAILBOX\tPASSWORD\tAT\tNOTE")
	for _, p := range v.Parties {
		for _, a := range p.Accounts {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.Address, a.Password, p.Name, a.Note)
		}
	}
	fmt.Fprintln(tw, "\nTOKEN\tPIN\tKEYS\tSOFTHSM2_CONF")
	for _, p := range v.Parties {
		if t := p.Token; t != nil {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Label, t.PIN, strings.Join(t.Keys, ", "), t.SoftHSMConf)
		}
	}
	tw.Flush()
	for _, line := range strings.Split(strings.TrimSuffix(tables.String(), "\n"), "\n") {
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	if v.Checklist != "" {
		fmt.Fprintf(w, "\n%s", v.Checklist)
	}
}

// Checklist is what the provider under test p must configure, printed by
// `lab up --enrol` and saved as CHECKLIST.txt in its directory.
func (l *Lab) Checklist(p *PUT) string {
	put := func(name string) string { return l.putPath(p, name) }
	var b strings.Builder
	fmt.Fprintf(&b, "provider under test %s (%q, %s) enrolled; configure it from %s (lab.yaml lists every file):\n",
		p.Name, p.ProviderName, strings.Join(p.Domains, ", "), put(""))
	fmt.Fprintf(&b, "  1. trust       %s (the lab CA and yours) for signatures and TLS; CRL %s\n", put(putTrust), put(putCRL))
	switch {
	case p.keyPEM != nil:
		fmt.Fprintf(&b, "  2. signing     %s with its key %s (lab-made: a quick start, not an HSM)\n", put(putSigner), put(putSignerKey))
	case p.csr != nil:
		fmt.Fprintf(&b, "  2. signing     %s, issued for your CSR: store it next to the key in your HSM\n", put(putSigner))
	default:
		fmt.Fprintf(&b, "  2. signing     your own certificate, listed in the index\n")
	}
	if p.tlsPEM != nil {
		key := "your key"
		if p.tlsKey != nil {
			key = put(putTLSKey)
		}
		fmt.Fprintf(&b, "  3. TLS         %s with %s, for %s\n", put(putTLS), key, strings.Join(p.Issue.TLS, ", "))
	} else {
		fmt.Fprintf(&b, "  3. TLS         your own certificate (the lab trusts %s)\n", p.Trust)
	}
	fmt.Fprintf(&b, "  4. index       %s base o=postacert, or %s (signed by %q)\n", l.LDAPURL,
		put(putIndexDir+"/index.ldif.p7m"), IndexName)
	fmt.Fprintf(&b, "  5. routing     DNS %s (every lab MX listens on port %d), or the static routes %s:\n",
		l.DNS.Addr, l.layout.mxPort, put(putTransport))
	routes := l.labRoutes()
	var domains []string
	for d := range routes {
		if !containsFold(p.Domains, d) {
			domains = append(domains, d)
		}
	}
	sort.Strings(domains)
	for _, d := range domains {
		fmt.Fprintf(&b, "                  %-22s %s\n", d, routes[d])
	}
	how := "a static route"
	if p.routedByDNS(l.layout.mxPort) {
		how = "the DNS (MX " + mxName(p.Domains[0]) + ")"
	}
	fmt.Fprintf(&b, "  6. your MX     the lab delivers to %s by %s: STARTTLS offered, no AUTH, plaintext accepted\n", p.MX.addr(), how)
	switch {
	case p.ldif != nil && p.keyPEM != nil && p.LDIF != "":
		fmt.Fprintf(&b, "  7. signed LDIF %s (lab-signed with your key): publish it at %s\n", put(putLDIFP7M), p.path(p.LDIF))
	case p.ldif != nil && p.keyPEM != nil:
		fmt.Fprintf(&b, "  7. signed LDIF %s (lab-signed with your key; the target file points to it)\n", put(putLDIFP7M))
	case p.ldif != nil:
		fmt.Fprintf(&b, "  7. signed LDIF %s, loaded by the lab\n", p.path(p.LDIF))
	default:
		fmt.Fprintf(&b, "  7. signed LDIF sign %s (DER PKCS#7, RFC 6109 §4.5.6) and publish it at the target file's ldif\n", put(putLDIF))
	}
	fmt.Fprintf(&b, "then: pecspec run --target <your enrolment file> --lab %s   (or --target %s)\n", l.Dir, l.TargetFileOf(p.Name))
	return b.String()
}
