package netguard

import (
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Defaults of Options: twice the busiest one-address traffic measured on
// the lab (32 submission connections from pecspec load --connections 32,
// 34 MX connections in the 4×4 matrix; docs/reference.md "Connections, TLS,
// failed AUTH and log floods"), and few enough that idle peers cannot
// exhaust the process's file handles (issue 15: 20,400 did).
const (
	DefaultMax   = 256
	DefaultPerIP = 64
)

// refuseWrite bounds the write of a refusal: a new socket's send buffer is
// empty, so it never waits unless something is badly wrong.
const refuseWrite = time.Second

// Options bound a Listener.
type Options struct {
	Name  string // the listener in log lines: submission, mx, admin
	Max   int    // connections at once; 0: DefaultMax, negative: no cap
	PerIP int    // connections at once from one Peer; 0: DefaultPerIP, negative: no cap
	// Refusal is written to a connection over a cap before it is closed
	// (SMTPRefusal, HTTPRefusal); nil closes it without a word, as on an
	// implicit-TLS port, where a plaintext reply could not be read and a
	// handshake would spend on a refused peer the CPU the cap protects.
	Refusal []byte
	Log     *slog.Logger // nil: discard
}

// SMTPRefusal is the reply to an SMTP connection over a cap: 421, service
// not available, closing the transmission channel (RFC 5321 §3.8, §4.2.3),
// with the policy status 4.7.0 (RFC 3463 §3.8).
func SMTPRefusal(domain string) []byte {
	return []byte("421 4.7.0 " + domain + " too many connections, try again later\r\n")
}

// HTTPRefusal is the reply to an HTTP connection over a cap (RFC 9110 §15.6.4).
var HTTPRefusal = []byte("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n" +
	"Content-Length: 22\r\nRetry-After: 1\r\nConnection: close\r\n\r\ntoo many connections\r\n")

// Stats are a Listener's figures since it started.
type Stats struct {
	Open, Peak, PeakPerIP int
	Refused               int64
}

// Listener caps the connections of the listener it wraps (Limit).
type Listener struct {
	net.Listener
	o      Options
	mu     sync.Mutex
	open   int
	byPeer map[netip.Addr]int
	stats  Stats
}

// Limit wraps l: its Accept returns only connections within the caps, each
// holding its slot until closed.
func Limit(l net.Listener, o Options) *Listener {
	if o.Max == 0 {
		o.Max = DefaultMax
	}
	if o.PerIP == 0 {
		o.PerIP = DefaultPerIP
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Listener{Listener: l, o: o, byPeer: map[netip.Addr]int{}}
}

// Accept waits for the next connection within the caps; the others are
// refused (Options.Refusal) and closed on the way.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		peer := Peer(c.RemoteAddr())
		if why := l.acquire(peer); why != "" {
			l.refuse(c, peer, why)
			continue
		}
		return &conn{Conn: c, release: func() { l.release(peer) }}, nil
	}
}

// acquire takes a slot for peer, or says which cap is reached.
func (l *Listener) acquire(peer netip.Addr) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.o.Max > 0 && l.open >= l.o.Max:
		l.stats.Refused++
		return "connection limit"
	case l.o.PerIP > 0 && l.byPeer[peer] >= l.o.PerIP:
		l.stats.Refused++
		return "per-address connection limit"
	}
	l.open++
	l.byPeer[peer]++
	l.stats.Peak = max(l.stats.Peak, l.open)
	l.stats.PeakPerIP = max(l.stats.PeakPerIP, l.byPeer[peer])
	return ""
}

func (l *Listener) release(peer netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.byPeer[peer]--; l.byPeer[peer] <= 0 {
		delete(l.byPeer, peer)
	}
}

func (l *Listener) refuse(c net.Conn, peer netip.Addr, why string) {
	if l.o.Refusal != nil {
		_ = c.SetWriteDeadline(time.Now().Add(refuseWrite))
		_, _ = c.Write(l.o.Refusal)
	}
	_ = c.Close()
	l.o.Log.Warn("connection refused", "listener", l.o.Name, "remote", peer.String(), "reason", why)
}

// Name is Options.Name.
func (l *Listener) Name() string { return l.o.Name }

// Stats returns the listener's figures.
func (l *Listener) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stats
	s.Open = l.open
	return s
}
