package chaos

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/pecspec/pecspec/probe"
)

// The clients' bounds.
const (
	messageDeadline = 5 * time.Minute  // to get one message accepted, retries included
	answerTimeout   = 60 * time.Second // per SMTP reply: over the access point's 20 s budget
	retryPause      = 250 * time.Millisecond
)

// Outcomes of a submission attempt.
const (
	outOK          = "accepted"
	outRefused     = "4xx"           // the server's temporary refusal: nothing was accepted
	outPermanent   = "5xx"           // never expected in this run
	outUnreachable = "unreachable"   // no connection: nothing was sent
	outLost        = "no reply"      // the connection ended without the reply: accepted or not?
	outLogin       = "login refused" // before any message was sent
)

// client submits the run's messages: workers take them in order from
// feed, which paces them at the run's rate and holds them at the gate
// while a fault waits for its point.
type client struct {
	r        *run
	queue    chan *message
	started  atomic.Int64
	accepted atomic.Int64
	gate     atomic.Int64 // no message past this many started until the next fault fired
	inFlight map[string]*atomic.Int64
	wg       sync.WaitGroup
}

func (r *run) newClient() *client {
	c := &client{r: r, queue: make(chan *message),
		inFlight: map[string]*atomic.Int64{"alpha": {}, "beta": {}}}
	c.gate.Store(math.MaxInt64)
	return c
}

func (c *client) start() {
	go c.feed()
	for range c.r.set.workers {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			for m := range c.queue {
				c.deliver(m)
			}
		}()
	}
}

// wait returns once every message was accepted or given up.
func (c *client) wait() { c.wg.Wait() }

func (c *client) feed() {
	defer close(c.queue)
	tick := time.NewTicker(time.Duration(float64(time.Second) / c.r.set.rate))
	defer tick.Stop()
	for _, m := range c.r.msgs {
		<-tick.C
		for c.started.Load() >= c.gate.Load() {
			time.Sleep(10 * time.Millisecond) // the fault fires, then opens the gate
		}
		c.started.Add(1)
		c.queue <- m
	}
}

// deliver submits m until it is accepted, as a careful user's client does:
// after a 4xx or no connection it submits again; after a connection that
// ended without a reply it waits until the instance runs again and
// submits again only when no accettazione (or avviso di non accettazione)
// about m is in the sender's mailbox. PEC accepts per submission (RFC 6109
// §3.1): a message submitted twice is two messages, so "exactly one" is
// counted per message the client believes it sent, and the client must not
// send one again once it could know it was accepted.
func (c *client) deliver(m *message) {
	deadline := time.Now().Add(messageDeadline)
	lv := c.r.live[m.sender.Name]
	for try := 0; ; try++ {
		if try > 0 {
			time.Sleep(retryPause)
		}
		if time.Now().After(deadline) {
			c.r.t.Errorf("%s from %s: not accepted within %v", m.id, m.sender.Name, messageDeadline)
			return
		}
		epoch, up := lv.state()
		if !waitUp(up, deadline) {
			continue
		}
		switch c.submit(m) {
		case outOK:
			c.done(m, false)
			return
		case outPermanent:
			return
		case outLost:
			if c.acceptedAfterLoss(m, lv, epoch, deadline) {
				c.done(m, true)
				return
			}
		}
	}
}

func (c *client) done(m *message, found bool) {
	m.mu.Lock()
	m.accepted, m.found = true, found
	m.mu.Unlock()
	c.accepted.Add(1)
}

// submit makes one attempt and records it.
func (c *client) submit(m *message) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*answerTimeout)
	defer cancel()
	ctx = probe.WithAnswerTimeout(ctx, answerTimeout)
	ep := probe.Endpoint{Host: "127.0.0.1", Port: m.sender.Ports.Submission, TLS: probe.TLSImplicit}
	a := attempt{inst: m.sender.Name, start: time.Now()}
	c.inFlight[m.sender.Name].Add(1)
	defer c.inFlight[m.sender.Name].Add(-1)
	err := probe.Submit(ctx, ep, c.r.pool, probe.Account{Address: m.from.Address, Password: m.from.Password},
		m.from.Address, m.rcpts, m.raw)
	a.end = time.Now()
	var se *smtp.SMTPError
	switch {
	case err == nil:
		a.outcome = outOK
	case errors.As(err, &se) && se.Code >= 500:
		a.outcome = outPermanent
		c.r.t.Errorf("%s from %s: refused for good: %v", m.id, m.sender.Name, err)
	case errors.As(err, &se):
		a.outcome = outRefused
	case errors.Is(err, probe.ErrUnreachable):
		a.outcome = outUnreachable
	case errors.Is(err, probe.ErrLogin):
		a.outcome = outLogin
	default:
		a.outcome, a.err = outLost, err.Error()
	}
	c.r.log.add(a)
	return a.outcome
}
