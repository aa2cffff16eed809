package faultproxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// TestHalfOpen: armed with 10 bytes, a short request still gets its reply;
// the reply to a long one is dropped although the upstream got the request;
// the upstream then closes, and the client's side stays open and silent —
// Reset spares it — until the client closes it.
func TestHalfOpen(t *testing.T) {
	up, got := upstream(t)
	p, c, r := proxied(t, up)
	p.HalfOpen(10)
	if reply := ask(t, c, r, "hi"); reply != "ok hi" {
		t.Fatalf("reply to a short request %q", reply)
	}
	<-got
	if _, err := io.WriteString(c, "a long request\n"); err != nil {
		t.Fatal(err)
	}
	if line := <-got; line != "a long request" {
		t.Fatalf("upstream got %q", line)
	}
	if _, err := io.WriteString(c, "bye\n"); err != nil {
		t.Fatal(err)
	}
	if line := <-got; line != "bye" {
		t.Fatalf("upstream got %q", line)
	}
	// The upstream has answered both and closed: the client sees neither
	// data nor an end. 300 ms bounds the wait for what must never come.
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := r.ReadByte(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("half-open client read %q, %v; want silence", n, err)
	}
	if n := p.Reset(); n != 0 {
		t.Errorf("Reset ended %d connections; a half-open one must stay", n)
	}
	if s := p.Stats(); s.HalfOpen != 1 || len(s.HalfOpenHeld) != 0 {
		t.Errorf("stats %+v, want 1 half-open connection still open", s)
	}
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for len(p.Stats().HalfOpenHeld) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the proxy did not end the half-open connection after its client closed it")
		}
		time.Sleep(time.Millisecond) // polling the proxy's goroutines
	}
	if held := p.Stats().HalfOpenHeld[0]; held < 300*time.Millisecond {
		t.Errorf("half-open connection held %v, the client kept it at least 300 ms", held)
	}
}

// TestHalfOpenOnce: arming makes one connection half-open, not every one.
func TestHalfOpenOnce(t *testing.T) {
	up, _ := upstream(t)
	p, c, _ := proxied(t, up)
	p.HalfOpen(0)
	io.WriteString(c, "uno\n")
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := c.Read(make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("first connection read: %v, want silence", err)
	}
	c2, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.SetDeadline(time.Now().Add(10 * time.Second))
	if got := ask(t, c2, bufio.NewReader(c2), "due"); got != "ok due" {
		t.Errorf("a connection after the half-open one: %q", got)
	}
}

// TestNoUpstream: without an upstream, or with one that refuses, the client
// is disconnected at once.
func TestNoUpstream(t *testing.T) {
	p, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := dead.Addr().String()
	dead.Close()
	for _, up := range []string{"", deadAddr} {
		p.SetUpstream(up)
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("upstream %q: read %v, want EOF", up, err)
		}
		c.Close()
	}
}
