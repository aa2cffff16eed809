package flowtest

import (
	"bufio"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/pecspec/pecspec/reference/lab"
)

// connectionLimits: alpha's MX serves lab.ConnectionsPerIP connections from
// one address and answers the next with 421 4.7.0 and a close, while another address is still served; when one of the 64 closes
// its slot is free again (issue 15: 20,400 idle connections exhausted
// alpha's file handles). The flood comes from 127.0.0.77, so that the other
// tests' traffic from 127.0.0.1 is not counted with it.
func connectionLimits(t *testing.T, h *harness) {
	a := h.l.Provider("alpha")
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for i := range lab.ConnectionsPerIP {
		c, line := greeting(t, a.MXAddr(), "127.0.0.77")
		if !strings.HasPrefix(line, "220 ") {
			t.Fatalf("connection %d: %q, want the greeting", i+1, line)
		}
		held = append(held, c)
	}
	_, line := greeting(t, a.MXAddr(), "127.0.0.77")
	if want := "421 4.7.0 " + a.Domain + " too many connections, try again later\r\n"; line != want {
		t.Errorf("connection %d from one address: %q, want %q", lab.ConnectionsPerIP+1, line, want)
	}
	if _, line := greeting(t, a.MXAddr(), "127.0.0.1"); !strings.HasPrefix(line, "220 ") {
		t.Errorf("from another address meanwhile: %q", line)
	}
	held[0].Close()
	held = held[1:]
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, line := greeting(t, a.MXAddr(), "127.0.0.77")
		if strings.HasPrefix(line, "220 ") {
			held = append(held, c)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a closed connection's slot was not freed within 10 s: %q", line)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// greeting connects to addr from the loopback address from and returns the
// connection and its first line.
func greeting(t *testing.T, addr, from string) (net.Conn, string) {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, _ := bufio.NewReader(c).ReadString('\n')
	return c, line
}

// failedAuth: a wrong password at alpha's submission gets 535, after the
// throttle's delay (1 s), and alpha logs it (issue 15: 200 wrong passwords
// in 0.27 s went without a delay or a log line). From 127.0.0.78, with the
// full mailbox's name, so that no other test's login is throttled.
func failedAuth(t *testing.T, h *harness) {
	a := h.l.Provider("alpha")
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.78")}}
	conn, err := tls.DialWithDialer(d, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(a.Ports.Submission)),
		&tls.Config{RootCAs: h.pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClient(conn)
	defer c.Close()
	user := lab.FullMailbox + "@" + a.Domain
	start := time.Now()
	err = c.Auth(sasl.NewPlainClient("", user, "sbagliata"))
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 535 {
		t.Fatalf("wrong password: %v, want 535", err)
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("the 535 came after %v, before the throttle's 1 s", took)
	}
	data, _ := os.ReadFile(filepath.Join(a.Dir, "pecref.log"))
	if want := `msg="authentication failed" provider=alpha role=accesspoint remote=127.0.0.78 user=` + user; !strings.Contains(string(data), want) {
		t.Errorf("alpha's log has no line %q", want)
	}
}
