package probe

import (
	"errors"
	"fmt"
	"net"
	"sync"
)

// The harness never trusts the target (issue 15): every connection the
// probe opens to a target reads through a boundedConn, which stops — closes
// the connection and fails every later read — as soon as the target sends
// more than its protocol allows. The probe reports that as ErrProtocol
// naming the endpoint: a harness error (exit code 2), never a finding. Time
// is bounded apart: the answer timeout of errors.go.

// ErrOverBound is a target sending more than the protocol allows; the
// error says which bound and why (errors.Is).
var ErrOverBound = errors.New("more than the protocol allows")

// SMTPReplyMax bounds what an SMTP server may send in answer to one
// command, counted from the client's last write: a reply is a few lines of
// at most 512 octets each (RFC 5321 §4.5.3.1.5), an EHLO reply a few dozen.
// The count runs below TLS, so it also bounds a handshake's certificates.
const SMTPReplyMax = 64 << 10

// boundedConn is a net.Conn whose reads are bounded: at most max octets
// between two writes of the client (an answer to one command), and
// whatever scan checks on the stream (IMAP lines and literals). Over a
// bound it closes the connection; Read then returns the bound's error.
type boundedConn struct {
	net.Conn
	max  int64                // octets read since the last write
	what string               // "an SMTP reply": what max bounds, in the error
	why  string               // the protocol's own limit, in the error
	scan func(p []byte) error // the protocol's stream bounds, or nil

	mu   sync.Mutex
	read int64
	err  error
}

// boundSMTP bounds the replies of an SMTP server on conn (SMTPReplyMax).
func boundSMTP(conn net.Conn) *boundedConn {
	return &boundedConn{Conn: conn, max: SMTPReplyMax, what: "in answer to one command",
		why: "an SMTP reply is a few lines of at most 512 octets, RFC 5321 §4.5.3.1.5; not an SMTP server?"}
}

// Read reads from the target; the octets that cross a bound are dropped.
func (c *boundedConn) Read(p []byte) (int, error) {
	if err := c.Err(); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	if n > 0 {
		if berr := c.account(p[:n]); berr != nil {
			c.Conn.Close()
			return 0, berr
		}
	}
	return n, err
}

// account counts p and runs scan; the first error is kept.
func (c *boundedConn) account(p []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.read += int64(len(p))
	switch {
	case c.read > c.max:
		c.err = fmt.Errorf("%w: over %s %s (%s)", ErrOverBound, size(c.max), c.what, c.why)
	case c.scan != nil:
		if err := c.scan(p); err != nil {
			c.err = err
		}
	}
	return c.err
}

// Write sends to the target: a new command, whose answer is counted anew.
func (c *boundedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.mu.Lock()
		c.read = 0
		c.mu.Unlock()
	}
	return n, err
}

// Err is the bound the target crossed, or nil.
func (c *boundedConn) Err() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// size writes n octets in KiB, MiB or GiB.
func size(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d octets", n)
}
