package lab

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
)

// Routing in the lab. Every lab domain has its MX at its own address on the
// lab's MX port (layout.go), and the lab's DNS gives each domain an MX record
// mx.<domain> with the A record of that address; the instances route by that
// DNS. The PUT's domains are in the DNS too (MX mx.<domain>, A its MX host's
// address); the instances reach them through the DNS when the PUT's MX listens
// on the lab's MX port, else through a static route to the host:port of its
// enrolment file. The same table is written for the PUT (put/routes.yaml,
// put/transport) for a PUT that routes by a map rather than by DNS.

// dnsRecords are the MX and A records of every lab domain and the PUTs'.
func (l *Lab) dnsRecords() []DNSRecord {
	ly := l.layout
	recs := []DNSRecord{}
	for _, s := range specs {
		d := "pec." + s.name + ".test"
		recs = append(recs, DNSRecord{Domain: d, MXHost: mxName(d), IP: ly.mx[s.name]})
	}
	gamma := "pec." + GammaName + ".test"
	recs = append(recs, DNSRecord{Domain: gamma, MXHost: mxName(gamma), IP: ly.mx[GammaName]},
		DNSRecord{Domain: ExternalDomain, MXHost: mxName(ExternalDomain), IP: ly.mx["external"]})
	for _, p := range l.PUTs {
		for _, d := range p.Domains {
			recs = append(recs, DNSRecord{Domain: strings.ToLower(d), MXHost: mxName(strings.ToLower(d)), IP: p.mxIP()})
		}
	}
	return recs
}

// labRoutes maps every domain the lab knows to the host:port its providers
// deliver to (through the DNS or a static route: the same place).
func (l *Lab) labRoutes() map[string]string {
	routes := map[string]string{}
	for _, p := range l.listed() {
		routes[p.Domain] = p.MXAddr()
	}
	if x := l.External; x != nil {
		routes[x.Domain] = x.MXAddr()
	}
	for _, p := range l.PUTs {
		for _, d := range p.Domains {
			routes[d] = p.MX.addr()
		}
	}
	return routes
}

// transportMap renders the routes of every domain but p's as a Postfix
// transport(5) table: "domain smtp:[host]:port", brackets so that no MX
// lookup is made.
func (l *Lab) transportMap(p *PUT) []byte {
	var b strings.Builder
	b.WriteString("# The pecspec lab's mail domains and their MX (Postfix transport(5) format: postmap this file).\n")
	routes := l.labRoutes()
	var domains []string
	for d := range routes {
		if !containsFold(p.Domains, d) {
			domains = append(domains, d)
		}
	}
	sort.Strings(domains)
	for _, d := range domains {
		host, port, _ := net.SplitHostPort(routes[d])
		fmt.Fprintf(&b, "%s smtp:[%s]:%s\n", d, host, port)
	}
	return []byte(b.String())
}

// addr is host:port.
func (e endpoint) addr() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// routesFor are instance p's static routes: staticRoutes, then
// Options.Routes for every domain but p's own (p delivers its own mail
// locally, and an override is about the way to another provider).
func (l *Lab) routesFor(p *Instance) map[string]string {
	routes := l.staticRoutes()
	for d, addr := range l.routes {
		if !strings.EqualFold(d, p.Domain) {
			routes[strings.ToLower(d)] = addr
		}
	}
	return routes
}
