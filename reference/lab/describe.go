package lab

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Describe prints every endpoint, mailbox and password of the lab.
func (l *Lab) Describe(w io.Writer) {
	fmt.Fprintf(w, "lab directory   %s\nCA certificate  %s\nindex (LDAP)    %s  base o=postacert\n",
		l.Dir, l.CAFile(), l.LDAPURL)
	fmt.Fprintf(w, "DNS             %s  (UDP and TCP: MX and A records of every lab domain; dig @%s -p %s MX pec.beta.test)\n",
		l.DNS.Addr, l.layout.Addr(), l.DNS.Addr[strings.LastIndex(l.DNS.Addr, ":")+1:])
	fmt.Fprintf(w, "MX port         %d  (each domain's MX at its own address)\n", l.layout.mxPort)
	if l.layout.base != 0 {
		fmt.Fprintf(w, "port layout     --ports %d (fixed: see docs/testing-your-provider.md)\n", l.layout.base)
	}
	if l.clamd != nil {
		fmt.Fprintf(w, "clamd           unix:%s\n", l.clamd.Socket)
	}
	fmt.Fprintf(w, "target file     %s\n", l.TargetFile())
	if g := l.Peer; g != nil {
		fmt.Fprintf(w, "\n%s  %q  %s  (scriptable peer: listed in the index, run by `pecspec run`; its MX %s is served only during a run)\n",
			g.Name, g.ProviderName, g.Domain, g.MXAddr())
		fmt.Fprintf(w, "  token       %s (SOFTHSM2_CONF=%s, PIN %s), keys %q and %q (%s, not in the index)\n",
			g.TokenLabel, g.SoftHSMConf, g.PIN, KeyLabel, UnlistedKeyLabel, UnlistedDomain)
	}
	for _, p := range l.Providers {
		fmt.Fprintf(w, "\n%s  %q  %s\n", p.Name, p.ProviderName, p.Domain)
		fmt.Fprintf(w, "  submission  smtps://%s   (implicit TLS, AUTH PLAIN)\n", l.layout.hostPort(p.Ports.Submission))
		fmt.Fprintf(w, "  mx          smtp://%s    (STARTTLS)\n", p.MXAddr())
		fmt.Fprintf(w, "  imap        imaps://%s   (Dovecot)\n", l.layout.hostPort(p.Ports.IMAP))
		fmt.Fprintf(w, "  pop3        pop3s://%s   (Dovecot)\n", l.layout.hostPort(p.Ports.POP3))
		fmt.Fprintf(w, "  admin       http://%s   (Authorization: Bearer %s)\n", l.layout.hostPort(p.Ports.Admin), p.AdminToken)
		fmt.Fprintf(w, "  token       %s (SOFTHSM2_CONF=%s, PIN %s), key %q\n", p.TokenLabel, p.SoftHSMConf, p.PIN, KeyLabel)
		fmt.Fprintf(w, "  service     %s   receipts mailbox %s / %s\n", p.Service, p.Receipts.Address, p.Receipts.Password)
		for _, a := range p.Accounts {
			fmt.Fprintf(w, "  mailbox     %-24s %s\n", a.Address, a.Password)
		}
	}
	if x := l.External; x != nil {
		fmt.Fprintf(w, "\nexternal  %s  (ordinary mail)\n  mx          smtp://%s\n  imap        imaps://%s:%d   (Dovecot)\n  pop3        pop3s://%s:%d   (Dovecot)\n",
			x.Domain, x.MXAddr(), x.IMAPHost, x.Ports.IMAP, x.IMAPHost, x.Ports.POP3)
		for _, a := range x.Accounts {
			fmt.Fprintf(w, "  mailbox     %-24s %s\n", a.Address, a.Password)
		}
	}
	for _, p := range l.PUTs {
		fmt.Fprintf(w, "\n%s", l.Checklist(p))
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
