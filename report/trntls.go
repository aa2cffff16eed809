package report

import (
	"regexp"
	"slices"
	"strings"

	"github.com/pecspec/pecspec/pec"
)

// TRN-16 reads the trace the transport added to the envelope: the Received
// fields that are not among those copied from the original (TRN-05), newest
// first. A hop is internal when it is LMTP, from "localhost", or from the
// host that records it; every other hop must name a TLS protocol (RFC 3848
// ESMTPS/ESMTPSA, or Postfix's "using TLS" comment).
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
	if m := reRcvBy.FindStringSubmatch(v); m != nil {
		h.by = strings.ToLower(m[1])
	}
	if m := reRcvWith.FindStringSubmatch(v); m != nil {
		h.with = strings.ToLower(m[1])
	}
	h.tls = slices.Contains(tlsProtocs, h.with) || reRcvTLS.MatchString(v)
	return h
}

func (h hop) internal() bool {
	return strings.HasPrefix(h.with, "lmtp") || h.from == "localhost" || h.from == h.by ||
		strings.HasPrefix(h.fromInfo, "localhost ") || h.fromInfo == "localhost"
}

func init() {
	register(trnRule("TRN-16", "RFC6109 §5.3", "The envelope travelled between providers over TLS (STARTTLS)",
		func(x *Msg, orig *pec.Entity) outcome {
			copied := map[string]bool{}
			for _, r := range orig.Header.Values("Received") {
				copied[collapse(r)] = true
			}
			n := 0
			for _, r := range x.M.Outer.Header.Values("Received") {
				if copied[collapse(r)] {
					continue
				}
				h := parseHop(r)
				if h.internal() {
					continue
				}
				if !h.tls {
					return fail("hop from %s to %s with %q, not TLS", h.from, h.by, h.with)
				}
				n++
			}
			if n == 0 {
				return na("no trace of a hop between providers (only internal or copied Received fields)")
			}
			return pass("%d hops over TLS", n)
		}))
}
