package faultproxy

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// link is one proxied connection: the client's and the upstream's sides.
type link struct {
	client, server net.Conn
	sent           atomic.Int64 // client bytes since the last reply forwarded
	half           atomic.Bool  // half-open: nothing more reaches the client
	since          time.Time    // when it became half-open (under Proxy.mu)
	closeOnce      sync.Once
}

// bufSize is the largest chunk read and forwarded at once.
const bufSize = 32 << 10

// handle connects the client to the upstream and forwards both ways until
// either side ends (the client, when the link is half-open).
func (p *Proxy) handle(client net.Conn) {
	defer p.wg.Done()
	p.mu.Lock()
	up, closed := p.upstream, p.closed
	p.mu.Unlock()
	if up == "" || closed {
		client.Close()
		return
	}
	server, err := net.DialTimeout("tcp", up, dialTimeout)
	if err != nil {
		client.Close()
		return
	}
	l := &link{client: client, server: server}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		l.close()
		return
	}
	p.links[l] = struct{}{}
	p.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.toServer(l)
	}()
	p.toClient(l)
	<-done
	p.mu.Lock()
	delete(p.links, l)
	if l.half.Load() {
		p.stats.HalfOpenHeld = append(p.stats.HalfOpenHeld, time.Since(l.since))
	}
	p.mu.Unlock()
}

// toServer forwards the client's bytes. The client's end — a close, an
// error, its own timeout — ends the link, half-open or not. On a half-open
// link the bytes still go to the upstream while it is there.
func (p *Proxy) toServer(l *link) {
	buf := make([]byte, bufSize)
	for {
		n, err := l.client.Read(buf)
		if n > 0 {
			p.delay()
			l.sent.Add(int64(n))
			if _, werr := l.server.Write(buf[:n]); werr != nil && !l.half.Load() {
				l.close()
				return
			}
		}
		if err != nil {
			l.close()
			return
		}
	}
}

// toClient forwards the upstream's bytes, unless the link is or becomes
// half-open: then they are dropped, and the upstream's end leaves the
// client's side open.
func (p *Proxy) toClient(l *link) {
	buf := make([]byte, bufSize)
	for {
		n, err := l.server.Read(buf)
		if n > 0 {
			p.delay()
			if l.half.Load() || p.trip(l) {
				continue
			}
			if _, werr := l.client.Write(buf[:n]); werr != nil {
				l.close()
				return
			}
			l.sent.Store(0)
		}
		if err != nil {
			if l.half.Load() {
				l.server.Close()
				return
			}
			l.close()
			return
		}
	}
}

// trip makes l half-open when HalfOpen is armed and l's client sent enough
// since its last reply.
func (p *Proxy) trip(l *link) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.armed || l.sent.Load() < p.after {
		return false
	}
	p.armed = false
	l.since = time.Now()
	l.half.Store(true)
	p.stats.HalfOpen++
	return true
}

// close ends both sides.
func (l *link) close() {
	l.closeOnce.Do(func() {
		l.client.Close()
		l.server.Close()
	})
}

// reset ends both sides with a TCP reset: SO_LINGER 0 makes close send RST
// instead of FIN.
func (l *link) reset() {
	for _, c := range []net.Conn{l.client, l.server} {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
	}
	l.close()
}
