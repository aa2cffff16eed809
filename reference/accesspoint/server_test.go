package accesspoint

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/pecspec/pecspec/internal/testpki"
	"github.com/pecspec/pecspec/reference/netguard"
)

type users map[string]string

func (u users) Authenticate(address, password string) bool {
	p, ok := u[strings.ToLower(address)]
	return ok && p == password
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// submission serves the submission server on 127.0.0.1 the way the provider
// does (netguard.Limit, then netguard.TLS) with th throttling AUTH; it
// returns the address and a client TLS configuration.
func submission(t *testing.T, th *netguard.Throttle) (string, *tls.Config) {
	t.Helper()
	ca := testpki.NewCA(t)
	srvTLS := ca.ServerTLS(t)
	srv := NewServer(nil, users{"alice@pec.alpha.test": "giusta"}, th, srvTLS, "pec.alpha.test", nil)
	srv.ErrorLog = netguard.ErrorLog{}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = srv.Serve(netguard.TLS(netguard.Limit(raw, netguard.Options{}), srvTLS, 0, "submission", nil))
	}()
	t.Cleanup(func() { srv.Close() })
	return raw.Addr().String(), &tls.Config{RootCAs: ca.Pool, ServerName: "127.0.0.1"}
}

// dialFrom opens an implicit-TLS submission session from the loopback
// address from.
func dialFrom(t *testing.T, addr, from string, cfg *tls.Config) *smtp.Client {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	conn, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClient(conn)
	c.CommandTimeout = 10 * time.Second
	t.Cleanup(func() { c.Close() })
	return c
}

func code(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// TestFailedAuthThrottled: three wrong passwords for alice from one address
// each get 535 after the throttle's delay, with a log line each; the fourth
// attempt from there, even with the right password, gets 421 4.7.0 and the
// session is closed. Alice at another address still logs in at once.
func TestFailedAuthThrottled(t *testing.T) {
	var log syncBuffer
	const delay = 20 * time.Millisecond
	th := netguard.NewThrottle(netguard.AuthOptions{Delay: delay, MaxDelay: 2 * delay, PerAccount: 3,
		Role: "accesspoint", Log: slog.New(slog.NewTextHandler(&log, nil))})
	addr, cfg := submission(t, th)
	guesser := dialFrom(t, addr, "127.0.0.3", cfg)
	start := time.Now()
	for i := range 3 {
		if err := guesser.Auth(sasl.NewPlainClient("", "alice@pec.alpha.test", "sbagliata")); code(err) != 535 {
			t.Fatalf("wrong password %d: %v, want 535", i+1, err)
		}
	}
	if took := time.Since(start); took < delay+2*delay+2*delay {
		t.Errorf("three failures answered in %v, under the throttle's delays", took)
	}
	// Now even the right password, in a new session from there: 421 and
	// the connection closed (raw, to see the server close it).
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second,
		LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.3")}}, "tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	plain := base64.StdEncoding.EncodeToString([]byte("\x00alice@pec.alpha.test\x00giusta"))
	_, _ = io.WriteString(conn, "EHLO guesser.test\r\nAUTH PLAIN "+plain+"\r\n")
	rest, err := io.ReadAll(conn)
	lines := strings.Split(strings.TrimSpace(string(rest)), "\r\n")
	if err != nil || lines[len(lines)-1] != "421 4.7.0 pec.alpha.test too many failed authentications, try again later" {
		t.Fatalf("the right password after the failures: %q, %v; want 421 4.7.0 and the connection closed", rest, err)
	}
	owner := dialFrom(t, addr, "127.0.0.1", cfg)
	start = time.Now()
	if err := owner.Auth(sasl.NewPlainClient("", "alice@pec.alpha.test", "giusta")); err != nil {
		t.Fatalf("alice from another address: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the owner's login took %v", took)
	}
	out := log.String()
	if n := strings.Count(out, `msg="authentication failed" role=accesspoint remote=127.0.0.3 user=alice@pec.alpha.test`); n != 3 {
		t.Errorf("%d failure lines, want 3:\n%s", n, out)
	}
	if !strings.Contains(out, `msg="authentication refused" role=accesspoint remote=127.0.0.3`) {
		t.Errorf("no refusal line:\n%s", out)
	}
}
