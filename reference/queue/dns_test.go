package queue

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
)

// fakeDNS answers from maps (a unit-test fake; the lab's integration tests
// route through a real dnsmasq).
type fakeDNS struct {
	mx    map[string][]*net.MX
	hosts map[string][]string
	fail  error // every lookup fails with it when set
}

func (f fakeDNS) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	if mx, ok := f.mx[name]; ok {
		return mx, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (f fakeDNS) LookupHost(_ context.Context, host string) ([]string, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	if h, ok := f.hosts[host]; ok {
		return h, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// TestDNSRoutes: RFC 5321 §5.1 — the MX of lowest preference, the implicit MX
// when there is none, no route for a domain that does not exist or has a
// null MX, a temporary error for a failing server; static routes first.
func TestDNSRoutes(t *testing.T) {
	dns := fakeDNS{
		mx: map[string][]*net.MX{
			"pec.beta.test": {{Host: "backup.pec.beta.test.", Pref: 20}, {Host: "mx.pec.beta.test.", Pref: 10}},
			"null.test":     {{Host: ".", Pref: 0}},
		},
		hosts: map[string][]string{"implicit.test": {"127.0.0.9"}},
	}
	r := DNSRoutes{Static: StaticRoutes{"pec.put.test": "127.0.0.1:2525"}, Resolver: dns, Port: 10002}
	for _, tc := range []struct {
		domain, want string
		noRoute      bool
	}{
		{"pec.beta.test", "mx.pec.beta.test:10002", false},
		{"PEC.PUT.TEST", "127.0.0.1:2525", false},
		{"implicit.test", "implicit.test:10002", false},
		{"nowhere.test", "", true},
		{"null.test", "", true},
	} {
		got, err := r.RouteContext(context.Background(), tc.domain)
		if got != tc.want || errors.Is(err, ErrNoRoute) != tc.noRoute {
			t.Errorf("RouteContext(%q) = %q, %v; want %q (no route %v)", tc.domain, got, err, tc.want, tc.noRoute)
		}
		if addr, ok := r.Route(tc.domain); ok != (tc.want != "") || addr != tc.want {
			t.Errorf("Route(%q) = %q, %v", tc.domain, addr, ok)
		}
	}
	broken := DNSRoutes{Resolver: fakeDNS{fail: &net.DNSError{Err: "server misbehaving", Name: "x", IsTemporary: true}}}
	_, err := broken.RouteContext(context.Background(), "pec.beta.test")
	if err == nil || errors.Is(err, ErrNoRoute) || !strings.Contains(err.Error(), "misbehaving") {
		t.Errorf("a failing DNS server gave %v, want a temporary error", err)
	}
	if addr, _ := (DNSRoutes{Resolver: dns}).RouteContext(context.Background(), "pec.beta.test"); addr != "mx.pec.beta.test:25" {
		t.Errorf("default port: %q", addr)
	}
}
