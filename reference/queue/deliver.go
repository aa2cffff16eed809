package queue

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// attempt tries every domain of it once and records what is left.
func (q *Queue) attempt(ctx context.Context, it *Item) {
	if q.o.Clock().Sub(it.Created) > q.o.Lifetime {
		q.giveUp(it, it.To, fmt.Errorf("%w after %v: %s", ErrExpired, q.o.Lifetime, it.LastErr))
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
	data, err := q.data(it)
	if err != nil {
		// Deferred like a delivery failure: the file may come back (a full
		// disk, a permission); the lifetime bounds the retries.
		order, left, lastErr = nil, it.To, fmt.Errorf("queue: read message: %w", err)
	}
	for _, d := range order {
		rcpts := byDomain[d]
		failed, err := q.send(ctx, d, it.From, rcpts, data)
		switch {
		case err == nil:
		case errors.Is(err, ErrPermanent) || errors.Is(err, ErrNoRoute):
			q.giveUp(it, failed, err)
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
	it.To = left
	it.Attempts++
	it.LastErr = lastErr.Error()
	it.NextTry = q.o.Clock().Add(q.o.Backoff(it.Attempts))
	q.o.Log.Warn("delivery deferred", "role", "queue", "id", it.ID, "to", left, "attempt", it.Attempts, "err", lastErr)
	// When the message could not be read its file stays as it is; only the
	// next try moves, in memory.
	if data != nil {
		if err := q.persist(it, data); err != nil {
			q.o.Log.Error("persist", "role", "queue", "id", it.ID, "err", err)
		}
	}
	q.mu.Lock()
	if _, ok := q.items[it.ID]; ok {
		q.items[it.ID] = it
	}
	q.mu.Unlock()
}

func (q *Queue) giveUp(it *Item, rcpts []string, err error) {
	q.o.Log.Error("delivery failed", "role", "queue", "id", it.ID, "to", rcpts, "err", err)
	if q.o.OnFailure != nil {
		failed := *it
		failed.To = rcpts
		q.o.OnFailure(failed, err)
	}
	if errors.Is(err, ErrExpired) {
		q.remove(it.ID)
	}
}

// send runs one SMTP transaction to the MX of domain. It returns the
// recipients not accepted and why: ErrPermanent for 5xx, else a temporary error.
func (q *Queue) send(ctx context.Context, domain, from string, rcpts []string, data []byte) ([]string, error) {
	addr, ok := q.o.Router.Route(domain)
	if !ok {
		return rcpts, fmt.Errorf("%w for %s", ErrNoRoute, domain)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	conn, err := (&net.Dialer{Timeout: 30 * time.Second}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return rcpts, fmt.Errorf("queue: dial %s: %w", addr, err)
	}
	var c *smtp.Client
	if slices.ContainsFunc(q.o.PlainDomains, func(d string) bool { return strings.EqualFold(d, domain) }) {
		// Ordinary mail domains: STARTTLS when the server offers it,
		// unauthenticated (opportunistic security, RFC 7435), else plaintext.
		cfg := q.o.TLS.Clone()
		cfg.InsecureSkipVerify = true //nolint:gosec // opportunistic TLS to a non-PEC server
		if c, err = smtp.NewClientStartTLS(conn, cfg); err != nil {
			conn.Close()
			if conn, err = (&net.Dialer{Timeout: 30 * time.Second}).DialContext(ctx, "tcp", addr); err != nil {
				return rcpts, fmt.Errorf("queue: dial %s: %w", addr, err)
			}
			c = smtp.NewClient(conn)
		}
	} else {
		cfg := q.o.TLS.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(addr)
		}
		// STARTTLS is mandatory between providers (RFC 6109 §5.3, TRN-16).
		if c, err = smtp.NewClientStartTLS(conn, cfg); err != nil {
			conn.Close()
			return rcpts, fmt.Errorf("queue: STARTTLS to %s: %w", addr, err)
		}
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := c.Hello(q.o.HeloName); err != nil {
		return rcpts, classify(err)
	}
	// SIZE (RFC 1870) lets the receiver read the message into one buffer.
	if err := c.Mail(from, &smtp.MailOptions{Size: int64(len(data))}); err != nil {
		return rcpts, classify(err)
	}
	var accepted, refused []string
	var refuseErr error
	for _, r := range rcpts {
		if err := c.Rcpt(r, nil); err != nil {
			refused, refuseErr = append(refused, r), classify(err)
			continue
		}
		accepted = append(accepted, r)
	}
	if len(accepted) > 0 {
		w, err := c.Data()
		if err == nil {
			_, err = w.Write(data)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return rcpts, classify(err)
		}
	}
	_ = c.Quit()
	if len(refused) > 0 {
		return refused, refuseErr
	}
	return nil, nil
}

// classify maps a 5xx reply to ErrPermanent; everything else is temporary.
func classify(err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) && se.Code >= 500 {
		return fmt.Errorf("%w: %d %s", ErrPermanent, se.Code, se.Message)
	}
	return fmt.Errorf("queue: %w", err)
}

func domainOf(addr string) string {
	_, d, _ := strings.Cut(addr, "@")
	return strings.ToLower(d)
}
