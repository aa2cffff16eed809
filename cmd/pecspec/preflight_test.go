package main

import (
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pecspec/pecspec/internal/testnet"
	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/reference/lab"
	"github.com/pecspec/pecspec/reference/lab/labtest"
)

// TestPreflightRefuses: a setup problem ends the run before any scenario,
// with exit code 2 and one line naming the endpoint, the cause and a hint —
// a submission endpoint whose certificate does not name its host, a wrong
// password, an MX that is down, a target that accepts connections and never
// answers.
func TestPreflightRefuses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real lab")
	}
	l := labtest.Up(t)
	wrongSAN := tlsServer(t, l, "other.example.test")
	down := closedPort(t)
	silent := silentServer(t)
	for _, tc := range []struct {
		name  string
		edit  func(*probe.Target)
		wants []string
	}{
		{"certificate without the host", func(tg *probe.Target) { tg.Submission = endpoint(wrongSAN, "implicit") },
			[]string{"alpha submission " + wrongSAN, "probe: TLS", "does not name the host"}},
		{"wrong password", func(tg *probe.Target) { tg.Accounts[1].Password = "wrong" },
			[]string{"alpha submission", "login refused", "AUTH as bob@pec.alpha.test", "check the account's password"}},
		{"MX down", func(tg *probe.Target) { tg.MX = endpoint(down, "starttls") },
			[]string{"alpha mx " + down, "unreachable", "start the provider"}},
		{"no lab around the target", func(tg *probe.Target) { tg.Counterpart, tg.Peer, tg.External = nil, nil, nil },
			[]string{"names no counterpart, gamma or external domain", "--lab DIR"}},
		{"silent target", func(tg *probe.Target) {
			tg.Submission, tg.IMAP, tg.MX = endpoint(silent, "implicit"), endpoint(silent, "implicit"), endpoint(silent, "starttls")
		}, []string{"alpha submission " + silent, "no answer", "does not answer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg, err := probe.LoadTarget(l.TargetFileOf("alpha"))
			if err != nil {
				t.Fatal(err)
			}
			tc.edit(tg)
			file := filepath.Join(l.Dir, "target-broken.yaml")
			if err := tg.Save(file); err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			start := time.Now()
			code, console := runCLI(t, "--target", file, "--out", out, "--answer-timeout", "3s")
			lines := strings.Split(strings.TrimSpace(console), "\n")
			if code != exitHarness || len(lines) != 1 {
				t.Fatalf("exit %d, %d lines, want 2 and one line:\n%s", code, len(lines), console)
			}
			for _, w := range tc.wants {
				if !strings.Contains(lines[0], w) {
					t.Errorf("the reason lacks %q: %s", w, lines[0])
				}
			}
			if _, err := os.Stat(filepath.Join(out, "summary.json")); err == nil {
				t.Error("scenarios ran after the preflight failed")
			}
			t.Logf("exit %d in %v: %s", code, time.Since(start).Round(time.Millisecond), lines[0])
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("the preflight took %v", d)
			}
		})
	}
}

func endpoint(addr, mode string) probe.Endpoint {
	host, port, _ := net.SplitHostPort(addr)
	ep := probe.Endpoint{Host: host, TLS: mode}
	ep.Port, _ = net.LookupPort("tcp", port)
	return ep
}

// tlsServer accepts TLS on loopback with a certificate of the lab CA for
// name only, and answers nothing after the handshake.
func tlsServer(t *testing.T, l *lab.Lab, name string) string {
	certPEM, keyPEM, err := l.CA.IssueTLS([]string{name}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	testnet.Serve(ln, func(c net.Conn) { _ = c.(*tls.Conn).Handshake(); time.Sleep(time.Second) })
	return ln.Addr().String()
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// silentServer accepts connections and never sends a byte: a stuck target.
func silentServer(t *testing.T) string { return testnet.Silent(t).Addr().String() }
