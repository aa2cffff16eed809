package netguard

import (
	"bufio"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// server accepts on a Limit and greets each connection with "220 hi"; it
// closes a connection when the peer does and reports it on closed.
type server struct {
	l      *Listener
	closed chan struct{}
}

func serve(t *testing.T, o Options) *server {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{l: Limit(raw, o), closed: make(chan struct{}, 16)}
	t.Cleanup(func() { s.l.Close() })
	go func() {
		for {
			c, err := s.l.Accept()
			if err != nil {
				return
			}
			go func() {
				_, _ = io.WriteString(c, "220 hi\r\n")
				_, _ = io.Copy(io.Discard, c)
				c.Close()
				s.closed <- struct{}{}
			}()
		}
	}()
	return s
}

// dial connects from the loopback address from (127.0.0.x) and returns the
// connection and its first line ("" when it was closed without one).
func dial(t *testing.T, s *server, from string) (net.Conn, string) {
	t.Helper()
	d := net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", s.l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := bufio.NewReader(c).ReadString('\n')
	return c, line
}

// TestLimitRefusesOverTheCap: with a cap of 3, the fourth connection gets
// the 421 and is closed; once one of the three is closed a new one is
// served again. The figures say so.
func TestLimitRefusesOverTheCap(t *testing.T) {
	s := serve(t, Options{Name: "mx", Max: 3, PerIP: -1, Refusal: SMTPRefusal("pec.alpha.test")})
	var open []net.Conn
	for range 3 {
		c, line := dial(t, s, "127.0.0.1")
		if line != "220 hi\r\n" {
			t.Fatalf("within the cap: %q", line)
		}
		open = append(open, c)
	}
	c, line := dial(t, s, "127.0.0.1")
	if line != "421 4.7.0 pec.alpha.test too many connections, try again later\r\n" {
		t.Fatalf("over the cap: %q", line)
	}
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("the refused connection stays open")
	}
	open[0].Close()
	<-s.closed
	if _, line := dial(t, s, "127.0.0.1"); line != "220 hi\r\n" {
		t.Errorf("after a slot was freed: %q", line)
	}
	if st := s.l.Stats(); st.Open != 3 || st.Peak != 3 || st.Refused != 1 {
		t.Errorf("stats %+v, want 3 open, peak 3, 1 refused", st)
	}
}

// TestLimitPerAddress: with 2 per address, a third connection from
// 127.0.0.1 is refused while one from 127.0.0.2 is served.
func TestLimitPerAddress(t *testing.T) {
	s := serve(t, Options{PerIP: 2, Refusal: SMTPRefusal("x.test")})
	for range 2 {
		if _, line := dial(t, s, "127.0.0.1"); line != "220 hi\r\n" {
			t.Fatalf("within the cap: %q", line)
		}
	}
	if _, line := dial(t, s, "127.0.0.1"); !strings.HasPrefix(line, "421 4.7.0 x.test ") {
		t.Errorf("third from one address: %q", line)
	}
	if _, line := dial(t, s, "127.0.0.2"); line != "220 hi\r\n" {
		t.Errorf("from another address: %q", line)
	}
	if st := s.l.Stats(); st.PeakPerIP != 2 || st.Peak != 3 {
		t.Errorf("stats %+v, want peak 3, 2 per address", st)
	}
}

// TestHangUp: after HangUp the server's next read ends as if the peer had
// closed; a connection no Limit accepted is not affected.
func TestHangUp(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := &conn{Conn: a, release: func() {}}
	if !HangUp(c) {
		t.Fatal("HangUp of a guarded connection = false")
	}
	if n, err := c.Read(make([]byte, 8)); n != 0 || err != io.EOF {
		t.Errorf("read after HangUp = %d, %v", n, err)
	}
	if HangUp(b) {
		t.Error("HangUp of a plain connection = true")
	}
}

func TestPeer(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"192.0.2.7:25", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:25", "192.0.2.7"},
		{"[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:25", "2001:db8:1:2::"},
		{"[fe80::1%eth0]:25", "fe80::"},
	} {
		ap := netip.MustParseAddrPort(tc.addr)
		if got := Peer(net.TCPAddrFromAddrPort(ap)).String(); got != tc.want {
			t.Errorf("Peer(%s) = %s, want %s", tc.addr, got, tc.want)
		}
	}
	if got := Peer(&net.UnixAddr{Name: "/run/x.sock", Net: "unix"}); got.IsValid() {
		t.Errorf("Peer(unix) = %v", got)
	}
}
