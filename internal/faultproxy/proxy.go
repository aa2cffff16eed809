// Package faultproxy is a small TCP proxy that puts the faults of a bad
// network between two mail servers, for the chaos run (issue 15): latency on
// every chunk it forwards, resets (RST) of the live connections, and a
// half-open connection — one whose replies stop reaching the client while
// the connection stays open, as when the peer vanished, or a middlebox lost
// its state, after the request got through. It forwards bytes and knows
// nothing of SMTP or TLS.
package faultproxy

import (
	"errors"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// Proxy accepts connections and forwards each to the upstream address.
type Proxy struct {
	ln net.Listener
	wg sync.WaitGroup

	mu       sync.Mutex
	upstream string
	minLat   time.Duration
	maxLat   time.Duration
	links    map[*link]struct{}
	armed    bool  // the next qualifying reply makes its connection half-open
	after    int64 // qualifying: it follows at least this many client bytes
	stats    Stats
	closed   bool
}

// Stats count what the proxy did.
type Stats struct {
	Connections int // accepted
	Resets      int // connections ended by Reset
	HalfOpen    int // connections made half-open
	// HalfOpenHeld is, for each half-open connection its client closed,
	// how long the client kept it open after its last reply was dropped.
	HalfOpenHeld []time.Duration
}

// dialTimeout bounds the connection to the upstream.
const dialTimeout = 5 * time.Second

// Listen starts a proxy on addr (host:port; port 0 picks one). Until
// SetUpstream is called it closes every connection it accepts.
func Listen(addr string) (*Proxy, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, links: map[*link]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the address the proxy listens on.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// SetUpstream sets where new connections are forwarded.
func (p *Proxy) SetUpstream(addr string) {
	p.mu.Lock()
	p.upstream = addr
	p.mu.Unlock()
}

// SetLatency delays every chunk forwarded, either way, by a random time in
// [lo, hi] (0, 0: none). The order of the bytes is kept.
func (p *Proxy) SetLatency(lo, hi time.Duration) {
	p.mu.Lock()
	p.minLat, p.maxLat = lo, max(lo, hi)
	p.mu.Unlock()
}

// HalfOpen arms a half-open connection: the first reply (a chunk from the
// upstream) that follows at least after bytes from its client since the
// previous reply is dropped, and so is everything the upstream sends on that
// connection from then on; the client's bytes still go through while the
// upstream is there, and the client's side is never closed by the proxy:
// only the client's own timeout ends it. Under TLS, after set to a few KiB
// picks the reply to a message's data — the 250 after DATA in SMTP.
func (p *Proxy) HalfOpen(after int) {
	p.mu.Lock()
	p.armed, p.after = true, int64(after)
	p.mu.Unlock()
}

// Reset ends every live connection but the half-open ones with a TCP reset
// on both sides (SO_LINGER 0), as a middlebox or a restarting peer would,
// and returns how many it ended.
func (p *Proxy) Reset() int {
	p.mu.Lock()
	var ls []*link
	for l := range p.links {
		if !l.half.Load() {
			ls = append(ls, l)
		}
	}
	p.stats.Resets += len(ls)
	p.mu.Unlock()
	for _, l := range ls {
		l.reset()
	}
	return len(ls)
}

// Stats returns a copy of the counts.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.HalfOpenHeld = append([]time.Duration(nil), s.HalfOpenHeld...)
	return s
}

// Close stops listening, resets every connection, half-open ones too, and
// waits until every goroutine of the proxy ended.
func (p *Proxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	p.closed = true
	ls := make([]*link, 0, len(p.links))
	for l := range p.links {
		ls = append(ls, l)
	}
	p.mu.Unlock()
	for _, l := range ls {
		l.reset()
	}
	p.wg.Wait()
	return err
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		p.mu.Lock()
		p.stats.Connections++
		p.mu.Unlock()
		p.wg.Add(1)
		go p.handle(c)
	}
}

// delay sleeps the latency of one chunk.
func (p *Proxy) delay() {
	p.mu.Lock()
	lo, hi := p.minLat, p.maxLat
	p.mu.Unlock()
	if hi <= 0 {
		return
	}
	d := lo
	if hi > lo {
		d += rand.N(hi - lo + 1)
	}
	time.Sleep(d)
}
