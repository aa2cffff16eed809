package queue

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// attempt tries every domain of it once and records what is left.
func (q *Queue) attempt(ctx context.Context, it *Item) {
	msg, done, err := q.message(it)
	if err == nil {
		defer done()
	}
	if q.o.Clock().Sub(it.Created) > q.o.Lifetime {
		expired := fmt.Errorf("%w after %v: %s", ErrExpired, q.o.Lifetime, it.LastErr)
		if q.giveUp(it, msg, it.To, expired) {
			q.remove(it.ID)
			return
		}
		q.retry(it, msg, it.To, expired)
		return
	}
	byDomain := map[string][]string{}
	var order []string
	for _, r := range it.To {
		d := domainOf(r)
		if _, ok := byDomain[d]; !ok {
			order = append(order, d)
		}
		byDomain[d] = append(byDomain[d], r)
	}
	var left []string
	var lastErr error
	if err != nil {
		// Deferred like a delivery failure: the file may come back (a full
		// disk, a permission); the lifetime bounds the retries.
		order, left, lastErr = nil, it.To, fmt.Errorf("queue: read message: %w", err)
	}
	for _, d := range order {
		rcpts := byDomain[d]
		failed, err := q.send(ctx, d, it.From, rcpts, msg)
		switch {
		case err == nil:
		case (errors.Is(err, ErrPermanent) || errors.Is(err, ErrNoRoute)) && q.giveUp(it, msg, failed, err):
		default:
			left = append(left, failed...)
			lastErr = err
		}
	}
	if len(left) == 0 {
		q.remove(it.ID)
		if q.o.OnDelivered != nil {
			q.o.OnDelivered(*it)
		}
		return
	}
	q.retry(it, msg, left, lastErr)
}

// retry keeps the recipients left of it for a later attempt, after the
// backoff.
func (q *Queue) retry(it *Item, msg *io.SectionReader, left []string, lastErr error) {
	it.To = left
	it.Attempts++
	it.LastErr = lastErr.Error()
	it.NextTry = q.o.Clock().Add(q.o.Backoff(it.Attempts))
	q.o.Log.Warn("delivery deferred", "role", "queue", "id", it.ID, "to", left, "attempt", it.Attempts, "err", lastErr)
	// When the message could not be read its file stays as it is; only the
	// next try moves, in memory.
	if msg != nil {
		if err := q.persistFrom(it, msg); err != nil {
			q.o.Log.Error("persist", "role", "queue", "id", it.ID, "err", err)
		}
	}
	q.mu.Lock()
	if _, ok := q.items[it.ID]; ok {
		q.items[it.ID] = it
	}
	q.mu.Unlock()
}

// giveUp tells OnFailure that rcpts of it failed for good, with the message
// in the item's Data, and reports whether it was told: when OnFailure fails
// (a notice could not be made) the recipients stay queued and the failure is
// told again at their next attempt — never given up in silence. Told before
// the removal: a crash between the two tells again (at least once).
func (q *Queue) giveUp(it *Item, msg *io.SectionReader, rcpts []string, err error) bool {
	q.o.Log.Error("delivery failed", "role", "queue", "id", it.ID, "to", rcpts, "err", err)
	if q.o.OnFailure == nil {
		return true
	}
	failed := *it
	failed.To = rcpts
	if msg != nil {
		data, rerr := io.ReadAll(io.NewSectionReader(msg, 0, msg.Size()))
		if rerr != nil {
			q.o.Log.Error("read failed message", "role", "queue", "id", it.ID, "err", rerr)
			return false
		}
		failed.Data = data
	}
	if ferr := q.o.OnFailure(failed, err); ferr != nil {
		q.o.Log.Error("failure not told; kept for another try", "role", "queue", "id", it.ID, "err", ferr)
		return false
	}
	return true
}

// send runs one SMTP transaction to the MX of domain. It returns the
// recipients not accepted and why: ErrPermanent for 5xx, else a temporary error.
// Between providers the session is reused for the next delivery when the
// transaction ended cleanly (sessions.go).
func (q *Queue) send(ctx context.Context, domain, from string, rcpts []string, msg *io.SectionReader) ([]string, error) {
	addr, err := q.route(ctx, domain)
	if err != nil {
		return rcpts, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	plain := slices.ContainsFunc(q.o.PlainDomains, func(d string) bool { return strings.EqualFold(d, domain) })
	var c *smtp.Client
	if !plain {
		c = q.conns.get(addr)
	}
	if c == nil {
		var err error
		if c, err = q.dial(ctx, addr, plain); err != nil {
			return rcpts, err
		}
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	failed, clean, err := transact(c, from, rcpts, msg)
	if !stop() || !clean || plain {
		// Cancelled, broken mid-way, or an ordinary domain: end the session.
		if clean {
			quit(c)
		}
		c.Close()
	} else {
		q.conns.put(addr, c)
	}
	return failed, err
}

// dial opens a session to addr: STARTTLS required between providers (RFC 6109
// §5.3, TRN-16); for ordinary domains STARTTLS when offered, unauthenticated
// (opportunistic security, RFC 7435), else plaintext. EHLO is sent.
func (q *Queue) dial(ctx context.Context, addr string, plain bool) (*smtp.Client, error) {
	d := &net.Dialer{Timeout: 30 * time.Second, Resolver: q.o.Resolver}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("queue: dial %s: %w", addr, err)
	}
	var c *smtp.Client
	if plain {
		cfg := q.o.TLS.Clone()
		cfg.InsecureSkipVerify = true //nolint:gosec // opportunistic TLS to a non-PEC server
		if c, err = smtp.NewClientStartTLS(conn, cfg); err != nil {
			conn.Close()
			if conn, err = d.DialContext(ctx, "tcp", addr); err != nil {
				return nil, fmt.Errorf("queue: dial %s: %w", addr, err)
			}
			c = smtp.NewClient(conn)
		}
	} else {
		cfg := q.o.TLS.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(addr)
		}
		if c, err = smtp.NewClientStartTLS(conn, cfg); err != nil {
			conn.Close()
			return nil, fmt.Errorf("queue: STARTTLS to %s: %w", addr, err)
		}
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := c.Hello(q.o.HeloName); err != nil {
		c.Close()
		return nil, classify(err)
	}
	return c, nil
}

// transact runs MAIL, RCPT and DATA on c, DATA streamed from msg. clean is
// false when the session cannot carry another transaction (an I/O error or
// an unexpected reply).
func transact(c *smtp.Client, from string, rcpts []string, msg *io.SectionReader) (failed []string, clean bool, err error) {
	// SIZE (RFC 1870) lets the receiver read the message into one buffer.
	if err := c.Mail(from, &smtp.MailOptions{Size: msg.Size()}); err != nil {
		return rcpts, isReply(err), classify(err)
	}
	var accepted, refused []string
	var refuseErr error
	for _, r := range rcpts {
		if err := c.Rcpt(r, nil); err != nil {
			if isBroken(err) {
				return rcpts, false, classify(err)
			}
			// The server's reply, or an address the client refuses to send
			// (a line break in it): that recipient only.
			refused, refuseErr = append(refused, r), classify(err)
			continue
		}
		accepted = append(accepted, r)
	}
	if len(accepted) == 0 {
		return refused, c.Reset() == nil, refuseErr
	}
	w, err := c.Data()
	if err == nil {
		var n int64
		n, err = io.Copy(w, io.NewSectionReader(msg, 0, msg.Size()))
		if err == nil && n != msg.Size() {
			err = fmt.Errorf("queue: message file ended after %d of %d bytes", n, msg.Size())
		}
		if err != nil {
			// Never end DATA over part of a message: the final dot would
			// have the receiver accept it. Dropping the connection makes it
			// discard the transaction (RFC 5321 §4.1.1.4).
			c.Close()
			return rcpts, false, fmt.Errorf("queue: DATA: %w", err)
		}
		err = w.Close()
	}
	if err != nil {
		// Even a reply here ends the session: go-smtp's state after a
		// refused DATA is not one to reuse.
		return rcpts, false, classify(err)
	}
	if len(refused) > 0 {
		return refused, true, refuseErr
	}
	return nil, true, nil
}

// isReply reports whether err is the server's reply (the session goes on)
// rather than a broken connection.
func isReply(err error) bool {
	var se *smtp.SMTPError
	return errors.As(err, &se)
}

// isBroken reports whether err left the connection unusable: an I/O error,
// not a reply and not a command the client refused to send.
func isBroken(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed)
}

// classify maps a 5xx reply to ErrPermanent; everything else is temporary.
func classify(err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) && se.Code >= 500 {
		return fmt.Errorf("%w: %w", ErrPermanent, se) // the reply stays reachable (errors.As)
	}
	return fmt.Errorf("queue: %w", err)
}

func domainOf(addr string) string {
	_, d, _ := strings.Cut(addr, "@")
	return strings.ToLower(d)
}
