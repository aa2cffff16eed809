package faultproxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pecspec/pecspec/internal/testnet"
)

// upstream is a line server on loopback: each line read is sent on got and
// answered "ok <line>"; it closes a connection after a line "bye".
func upstream(t *testing.T) (addr string, got chan string) {
	t.Helper()
	got = make(chan string, 16)
	ln := testnet.Loopback(t, func(c net.Conn) {
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSpace(line)
			got <- line
			if _, err := io.WriteString(c, "ok "+line+"\n"); err != nil || line == "bye" {
				return
			}
		}
	})
	return ln.Addr().String(), got
}

// proxied starts a proxy to up and a client connection through it.
func proxied(t *testing.T, up string) (*Proxy, net.Conn, *bufio.Reader) {
	t.Helper()
	p, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	p.SetUpstream(up)
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return p, c, bufio.NewReader(c)
}

// ask sends a line and reads the answer.
func ask(t *testing.T, c net.Conn, r *bufio.Reader, line string) string {
	t.Helper()
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		t.Fatal(err)
	}
	reply, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("reply to %q: %v", line, err)
	}
	return strings.TrimSpace(reply)
}

// TestForwardsWithLatency: bytes go both ways in order; each chunk waits
// the latency, so a round trip takes at least two of them.
func TestForwardsWithLatency(t *testing.T) {
	up, _ := upstream(t)
	p, c, r := proxied(t, up)
	if got := ask(t, c, r, "uno"); got != "ok uno" {
		t.Fatalf("reply %q", got)
	}
	const lat = 40 * time.Millisecond
	p.SetLatency(lat, lat)
	start := time.Now()
	if got := ask(t, c, r, "due"); got != "ok due" {
		t.Fatalf("reply %q", got)
	}
	if took := time.Since(start); took < 2*lat {
		t.Errorf("round trip with %v latency each way took %v", lat, took)
	}
	if s := p.Stats(); s.Connections != 1 {
		t.Errorf("stats %+v, want 1 connection", s)
	}
}

// TestReset: Reset ends the live connection with a TCP reset the client
// sees as ECONNRESET; the next connection works.
func TestReset(t *testing.T) {
	up, _ := upstream(t)
	p, c, r := proxied(t, up)
	ask(t, c, r, "uno")
	if n := p.Reset(); n != 1 {
		t.Fatalf("Reset ended %d connections, want 1", n)
	}
	_, err := r.ReadString('\n')
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("read after Reset: %v, want ECONNRESET", err)
	}
	c2, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.SetDeadline(time.Now().Add(10 * time.Second))
	if got := ask(t, c2, bufio.NewReader(c2), "due"); got != "ok due" {
		t.Errorf("after Reset: %q", got)
	}
	if s := p.Stats(); s.Resets != 1 || s.Connections != 2 {
		t.Errorf("stats %+v, want 1 reset of 2 connections", s)
	}
}
