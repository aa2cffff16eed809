package netguard

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// conn is an accepted connection that holds a slot of its Listener until it
// is closed.
type conn struct {
	net.Conn
	release func()
	once    sync.Once
	hungUp  atomic.Bool
}

// Read reads from the peer, or ends the stream after HangUp.
func (c *conn) Read(b []byte) (int, error) {
	if c.hungUp.Load() {
		return 0, io.EOF
	}
	return c.Conn.Read(b)
}

// Close frees the connection's slot (once), then closes it: a peer that sees
// the close and dials again must find the slot free, not be refused by a
// count the server has not yet lowered.
func (c *conn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// HangUp makes the server end a session after its current reply: reads from
// c (or from the connection under a *tls.Conn) end as if the peer had closed,
// so a server loop that answered 421 (RFC 5321 §3.8) writes that reply and
// then closes, as the code promises. It reports false for a connection that
// no Limit accepted: the caller's reply then stands alone.
func HangUp(c net.Conn) bool {
	for c != nil {
		switch v := c.(type) {
		case *conn:
			v.hungUp.Store(true)
			return true
		case interface{ NetConn() net.Conn }: // *tls.Conn
			c = v.NetConn()
		default:
			return false
		}
	}
	return false
}
