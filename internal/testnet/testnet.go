// Package testnet gives tests loopback servers: a listener whose every
// connection is served by a function, one that accepts and never answers (a
// stuck target), and an implicit-TLS SMTP server. Each lives until the test
// ends. Only tests import it.
package testnet

import (
	"crypto/tls"
	"io"
	"log"
	"net"
	"testing"

	"github.com/emersion/go-smtp"
)

// Listen listens on a free loopback port; the listener closes when the test
// ends.
func Listen(tb testing.TB) net.Listener {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	return ln
}

// Serve accepts on ln until it closes and runs serve on each connection in
// its own goroutine, closing the connection when serve returns.
func Serve(ln net.Listener, serve func(c net.Conn)) {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); serve(c) }()
		}
	}()
}

// Loopback serves every connection with serve until the test ends and
// returns the listener.
func Loopback(tb testing.TB, serve func(c net.Conn)) net.Listener {
	tb.Helper()
	ln := Listen(tb)
	Serve(ln, serve)
	return ln
}

// Silent accepts connections and never sends a byte nor reads one: they are
// closed when the test ends.
func Silent(tb testing.TB) net.Listener {
	tb.Helper()
	done := make(chan struct{})
	ln := Listen(tb)
	tb.Cleanup(func() { close(done) })
	Serve(ln, func(net.Conn) { <-done })
	return ln
}

// Port is the TCP port ln listens on.
func Port(ln net.Listener) int { return ln.Addr().(*net.TCPAddr).Port }

// SMTPS serves backend over implicit TLS with cfg (AUTH allowed, its error
// log discarded) until the test ends, and returns the server and its port.
func SMTPS(tb testing.TB, backend smtp.Backend, cfg *tls.Config) (*smtp.Server, int) {
	tb.Helper()
	srv := smtp.NewServer(backend)
	srv.Domain, srv.AllowInsecureAuth = "localhost", true
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln := Listen(tb)
	go srv.Serve(tls.NewListener(ln, cfg))
	tb.Cleanup(func() { srv.Close() })
	return srv, Port(ln)
}
