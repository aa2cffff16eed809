package netguard

import (
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"

	"github.com/pecspec/pecspec/internal/testpki"
)

// tlsServe serves implicit TLS on a Limit with the given handshake deadline;
// accepted connections are sent on the returned channel.
func tlsServe(t *testing.T, o Options, timeout time.Duration) (net.Listener, *Listener, *tls.Config, chan net.Conn) {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ca := testpki.NewCA(t)
	lim := Limit(raw, o)
	l := TLS(lim, ca.ServerTLS(t), timeout, "submission", nil)
	t.Cleanup(func() { l.Close() })
	got := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			got <- c
		}
	}()
	return l, lim, &tls.Config{RootCAs: ca.Pool, ServerName: "127.0.0.1"}, got
}

// TestHandshakeDeadline: a client that connects and never starts TLS is
// closed when the deadline passes (not after the server's 5-minute idle
// timeout) and never reaches the server; it held its slot meanwhile, and a
// real TLS client is then handed over with its handshake complete.
func TestHandshakeDeadline(t *testing.T) {
	const deadline = 300 * time.Millisecond
	l, lim, client, got := tlsServe(t, Options{Max: 1}, deadline)
	silent, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	// The cap is 1: while the silent one handshakes, another is closed.
	other, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_ = other.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := other.Read(make([]byte, 1)); err == nil {
		t.Error("a connection over the cap was not closed")
	}
	other.Close()
	start := time.Now()
	_ = silent.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = io.ReadAll(silent)
	took := time.Since(start)
	if err != nil || took > 5*time.Second {
		t.Fatalf("the silent client was closed after %v (err %v), deadline %v", took, err, deadline)
	}
	select {
	case c := <-got:
		t.Fatalf("a connection that never handshook was accepted: %v", c.RemoteAddr())
	default:
	}
	tc, err := tls.Dial("tcp", l.Addr().String(), client)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	select {
	case c := <-got:
		s, ok := c.(*tls.Conn)
		if !ok || !s.ConnectionState().HandshakeComplete {
			t.Errorf("accepted %T, want a *tls.Conn with its handshake complete", c)
		}
		c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("the TLS client was not accepted")
	}
	if st := lim.Stats(); st.Refused != 1 || st.Peak != 1 {
		t.Errorf("stats %+v, want 1 refused, peak 1", st)
	}
}

// TestTLSListenerClose: Accept returns once the listener is closed.
func TestTLSListenerClose(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := TLS(Limit(raw, Options{}), testpki.NewCA(t).ServerTLS(t), 0, "submission", nil)
	errc := make(chan error)
	go func() {
		_, err := l.Accept()
		errc <- err
	}()
	l.Close()
	select {
	case err := <-errc:
		if err == nil {
			t.Error("Accept after Close returned a connection")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Accept did not return after Close")
	}
}
