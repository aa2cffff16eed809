package queue

import (
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// sessions keeps the SMTP sessions to other providers' MXs open between
// deliveries (RFC 5321 §3.3: one session carries several transactions), so a
// busy pair of providers does not pay a TCP connection, STARTTLS handshake
// and EHLO for every envelope and receipt. A session is reused only after a
// successful transaction and an RSET that the server answers; one idle longer
// than sessionIdle is closed rather than reused.
type sessions struct {
	mu     sync.Mutex
	idle   map[string][]idleSession // by MX address
	max    int                      // idle sessions kept per address
	closed bool
}

// quitTimeout bounds the QUIT and RSET of pooled sessions: a peer that hung
// does not hold a worker or the shutdown for go-smtp's 5-minute default.
const quitTimeout = 5 * time.Second

// quit ends a session politely (RFC 5321 §4.1.1.10), then closes it.
func quit(c *smtp.Client) {
	c.CommandTimeout = quitTimeout
	_ = c.Quit()
	c.Close()
}

type idleSession struct {
	c     *smtp.Client
	since time.Time
}

// sessionIdle is how long an idle session is kept: well under the 5 minutes
// RFC 5321 §4.5.3.2.7 lets a server wait, so the server has not closed it.
const sessionIdle = 30 * time.Second

// get returns an idle session to addr that answers RSET, or nil.
func (s *sessions) get(addr string) *smtp.Client {
	for {
		s.mu.Lock()
		list := s.idle[addr]
		if len(list) == 0 {
			s.mu.Unlock()
			return nil
		}
		is := list[len(list)-1]
		s.idle[addr] = list[:len(list)-1]
		s.mu.Unlock()
		if time.Since(is.since) > sessionIdle {
			quit(is.c)
			continue
		}
		timeout := is.c.CommandTimeout
		is.c.CommandTimeout = quitTimeout
		err := is.c.Reset()
		is.c.CommandTimeout = timeout
		if err != nil {
			is.c.Close()
			continue
		}
		return is.c
	}
}

// put keeps c for the next delivery to addr, or closes it when enough are
// kept.
func (s *sessions) put(addr string, c *smtp.Client) {
	s.mu.Lock()
	if s.idle == nil {
		s.idle = map[string][]idleSession{}
	}
	if !s.closed && len(s.idle[addr]) < s.max {
		s.idle[addr] = append(s.idle[addr], idleSession{c: c, since: time.Now()})
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	quit(c)
}

// closeAll ends every idle session (QUIT).
func (s *sessions) closeAll() {
	s.mu.Lock()
	all := s.idle
	s.idle, s.closed = nil, true
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, list := range all {
		for _, is := range list {
			wg.Add(1)
			go func() { defer wg.Done(); quit(is.c) }()
		}
	}
	wg.Wait()
}
