package report

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"

	"github.com/pecspec/pecspec/pec"
)

// TRN-16 (RFC 6109 §5.3) requires TLS between providers; a provider's
// internal channels may be protected otherwise. It reads the trace the
// transport added to the envelope (the Received fields not copied from the
// original, TRN-05) and judges only the hops from one provider to another:
// a hop is internal when it is LMTP, from localhost or the recording host
// itself, or between two hosts of one organisation (the same registered
// domain); a same-domain transaction never leaves its provider.
var (
	reRcvFrom  = regexp.MustCompile(`(?i)^from\s+(\S+)(?:\s+\(([^)]*)\))?`)
	reRcvBy    = regexp.MustCompile(`(?i)\bby\s+(\S+)`)
	reRcvWith  = regexp.MustCompile(`(?i)\bwith\s+([A-Za-z0-9]+)`)
	reRcvTLS   = regexp.MustCompile(`(?i)\(using TLS|\bversion=TLS`)
	tlsProtocs = []string{"esmtps", "esmtpsa", "utf8smtps", "utf8smtpsa", "lmtps", "lmtpsa"}
)

type hop struct {
	from, fromInfo, by, with string
	tls                      bool
}

func parseHop(v string) hop {
	v = strings.Join(strings.Fields(v), " ")
	var h hop
	if m := reRcvFrom.FindStringSubmatch(v); m != nil {
		h.from, h.fromInfo = strings.ToLower(m[1]), strings.ToLower(m[2])
	}
	after := v // the protocol follows "by host" (Postfix's TLS comment says "with cipher" before it)
	if m := reRcvBy.FindStringSubmatchIndex(v); m != nil {
		h.by, after = strings.ToLower(v[m[2]:m[3]]), v[m[1]:]
	}
	if m := reRcvWith.FindStringSubmatch(after); m != nil {
		h.with = strings.ToLower(m[1])
	}
	h.tls = slices.Contains(tlsProtocs, h.with) || reRcvTLS.MatchString(v)
	return h
}

// internal tells a hop inside one provider from one between providers.
func (h hop) internal() bool {
	switch {
	case strings.HasPrefix(h.with, "lmtp"), h.from == "localhost", h.from == h.by,
		strings.HasPrefix(h.fromInfo, "localhost ") || h.fromInfo == "localhost":
		return true
	}
	return orgDomain(h.from) != "" && orgDomain(h.from) == orgDomain(h.by)
}

func (h hop) String() string {
	return fmt.Sprintf("%s → %s (%s)", h.from, h.by, h.with)
}

// secondLevel are second-level labels under which registrations sit one
// level deeper (example.co.uk), for orgDomain.
var secondLevel = []string{"co", "com", "net", "org", "gov", "edu", "ac", "or", "ne", "gv"}

// orgDomain is the registered domain of a host name ("mx.pec.aruba.it" →
// "aruba.it"): its last two labels, three under a generic second level.
// It is "" for an address literal or a name without a dot.
func orgDomain(host string) string {
	host = strings.Trim(strings.ToLower(host), "[].")
	if net.ParseIP(host) != nil || !strings.Contains(host, ".") {
		return ""
	}
	labels := strings.Split(host, ".")
	n := 2
	if len(labels) >= 3 && slices.Contains(secondLevel, labels[len(labels)-2]) {
		n = 3
	}
	return strings.Join(labels[max(0, len(labels)-n):], ".")
}

// sameDomain tells a transaction whose sender and recipients share one
// domain: its envelope never travels between providers.
func sameDomain(orig *pec.Entity) (string, bool) {
	from := addrs(orig, "From")
	rcpts := append(addrs(orig, "To"), addrs(orig, "Cc")...)
	if len(from) != 1 || len(rcpts) == 0 {
		return "", false
	}
	d := domainOf(from[0])
	for _, r := range rcpts {
		if domainOf(r) != d {
			return "", false
		}
	}
	return d, true
}

func init() {
	register(trnRule("TRN-16", "RFC6109 §5.3", "The envelope travelled between providers over TLS (STARTTLS)",
		func(x *Msg, orig *pec.Entity) outcome {
			if d, ok := sameDomain(orig); ok {
				return na("a same-domain transaction (%s): the envelope did not travel between providers", d)
			}
			copied := map[string]bool{}
			for _, r := range orig.Header.Values("Received") {
				copied[collapse(r)] = true
			}
			var judged []string
			internal := 0
			for _, r := range x.M.Outer.Header.Values("Received") {
				if copied[collapse(r)] {
					continue
				}
				h := parseHop(r)
				switch {
				case h.internal():
					internal++
				case !h.tls:
					return fail("hop between providers %s without TLS", h)
				default:
					judged = append(judged, h.String())
				}
			}
			if len(judged) == 0 {
				return na("no hop between providers in the trace (%d internal hops not judged)", internal)
			}
			return pass("%d hop(s) between providers over TLS: %s; %d internal not judged", len(judged), strings.Join(judged, ", "), internal)
		}))
}
