package report

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// Bounds of reading an index over LDAP (the harness never trusts what it
// reads, issue 15): the whole session within ldapTimeout, at most
// ldapBytesMax octets and ldapElementsMax BER elements — the LDAP client
// holds a structure of some hundred octets per element, however small, so
// octets alone do not bound its memory. A national index of a few thousand
// domains is far below both.
const (
	ldapTimeout     = 30 * time.Second
	ldapBytesMax    = 16 << 20
	ldapElementsMax = 1 << 18
	ldapEntriesMax  = 10000
)

// errIndexTooLarge is an LDAP server sending more than the harness reads.
var errIndexTooLarge = errors.New("report: index: the LDAP server sent more than the harness reads")

// dialIndex connects to the LDAP server of u (ldap:// or ldaps://, RFC
// 4516) with every read bounded.
func dialIndex(u *url.URL) (*ldap.Conn, error) {
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[bool]string{true: ldap.DefaultLdapsPort, false: ldap.DefaultLdapPort}[u.Scheme == "ldaps"]
	}
	raw, err := (&net.Dialer{Timeout: 10 * time.Second}).Dial("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, err
	}
	raw.SetDeadline(time.Now().Add(ldapTimeout))
	var conn net.Conn = raw
	tlsConn := u.Scheme == "ldaps"
	if tlsConn {
		conn = tls.Client(raw, &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12})
	}
	// above TLS: the scanner reads the LDAP messages themselves
	conn = &cappedConn{Conn: conn, left: ldapBytesMax, ber: berScanner{max: ldapElementsMax}}
	l := ldap.NewConn(conn, tlsConn)
	l.Start()
	l.SetTimeout(ldapTimeout)
	return l, nil
}

// cappedConn reads at most left octets and ber's elements, then fails.
type cappedConn struct {
	net.Conn
	left int64
	ber  berScanner
	err  error
}

func (c *cappedConn) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.left <= 0 {
		c.err = fmt.Errorf("%w (%d MiB)", errIndexTooLarge, ldapBytesMax>>20)
		return 0, c.err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.Conn.Read(p)
	c.left -= int64(n)
	if berr := c.ber.scan(p[:n]); berr != nil {
		c.err = berr
		c.Conn.Close()
		return 0, berr
	}
	return n, err
}
