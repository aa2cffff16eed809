package receptionpoint

import (
	"fmt"
	"net"
	"strings"
	"time"
)

// trace returns the Received field the MX prepends to every message it
// accepts (RFC 5321 §4.4), naming the protocol as RFC 3848 does: ESMTPS when
// the hop ran over STARTTLS, ESMTP otherwise — what TRN-16 reads to tell that
// an envelope travelled between providers over TLS (RFC 6109 §5.3).
func trace(helo, remote, by string, tls bool, at time.Time) []byte {
	proto := "ESMTP"
	if tls {
		proto = "ESMTPS"
	}
	ip := remote
	if h, _, err := net.SplitHostPort(remote); err == nil {
		ip = h
	}
	helo = strings.Map(func(r rune) rune {
		if r <= ' ' || r == '(' || r == ')' || r == ';' || r > '~' {
			return -1
		}
		return r
	}, helo)
	if helo == "" {
		helo = "unknown"
	}
	return []byte(fmt.Sprintf("Received: from %s ([%s])\r\n\tby %s (pecref) with %s;\r\n\t%s\r\n",
		helo, ip, by, proto, at.Format(time.RFC1123Z)))
}
