package queue

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Resolver is the part of *net.Resolver that DNS routing uses.
type Resolver interface {
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// DNSRoutes routes a domain by the Domain Name System (RFC 5321 §5.1): its MX
// record of lowest preference, or, when the domain has no MX record, the
// domain itself (the implicit MX). Static entries come first, as a
// provider's transport map overrides DNS. Port is the SMTP port of the hosts
// found: 25 on the Internet; the lab puts every MX at its own loopback address
// on one port. The host name is returned, not its address, so that the TLS
// certificate is checked against the MX name; the dialer resolves it (see
// Options.Resolver).
type DNSRoutes struct {
	Static   StaticRoutes
	Resolver Resolver
	Port     int           // default 25
	Timeout  time.Duration // of one lookup; default 10 s
}

// Route implements Router; RouteContext tells a missing route from a DNS
// failure.
func (r DNSRoutes) Route(domain string) (string, bool) {
	addr, err := r.RouteContext(context.Background(), domain)
	return addr, err == nil
}

// RouteContext returns host:port of domain's mail exchanger. A domain that
// does not exist, or has neither MX nor address records, wraps ErrNoRoute; any
// other lookup failure is temporary (the queue tries again).
func (r DNSRoutes) RouteContext(ctx context.Context, domain string) (string, error) {
	if addr, ok := r.Static.Route(domain); ok {
		return addr, nil
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	host := ""
	mxs, err := r.Resolver.LookupMX(ctx, domain)
	switch {
	case err == nil && len(mxs) > 0:
		host = lowestPreference(mxs)
	case err == nil || isNotFound(err):
		// No MX record: the domain is its own mail exchanger (RFC 5321 §5.1).
		if _, err := r.Resolver.LookupHost(ctx, domain); err != nil {
			if isNotFound(err) {
				return "", fmt.Errorf("%w for %s: no MX and no address record", ErrNoRoute, domain)
			}
			return "", fmt.Errorf("queue: DNS lookup of %s: %w", domain, err)
		}
		host = domain
	default:
		return "", fmt.Errorf("queue: DNS MX lookup of %s: %w", domain, err)
	}
	if host == "" || host == "." {
		// A null MX (RFC 7505): the domain accepts no mail.
		return "", fmt.Errorf("%w for %s: null MX", ErrNoRoute, domain)
	}
	port := r.Port
	if port == 0 {
		port = 25
	}
	return net.JoinHostPort(host, strconv.Itoa(port)), nil
}

// lowestPreference is the host of the MX record with the lowest preference
// value (the resolver sorts them; equal ones are in random order).
func lowestPreference(mxs []*net.MX) string {
	best := mxs[0]
	for _, mx := range mxs[1:] {
		if mx.Pref < best.Pref {
			best = mx
		}
	}
	return strings.TrimSuffix(best.Host, ".")
}

func isNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

// contextRouter is a Router that can tell a temporary lookup failure from a
// missing route (DNSRoutes).
type contextRouter interface {
	RouteContext(ctx context.Context, domain string) (string, error)
}

// route asks the router for domain's MX.
func (q *Queue) route(ctx context.Context, domain string) (string, error) {
	if cr, ok := q.o.Router.(contextRouter); ok {
		return cr.RouteContext(ctx, domain)
	}
	addr, ok := q.o.Router.Route(domain)
	if !ok {
		return "", fmt.Errorf("%w for %s", ErrNoRoute, domain)
	}
	return addr, nil
}
