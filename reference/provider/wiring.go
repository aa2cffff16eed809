package provider

import (
	"bytes"
	"context"
	"crypto/subtle"
	"strings"

	"github.com/pecspec/pecspec/reference/deliverypoint"
	"github.com/pecspec/pecspec/reference/mailbox"
	"github.com/pecspec/pecspec/reference/queue"
	"github.com/pecspec/pecspec/reference/receptionpoint"
)

// outbox is where the points put what they produce: the sender's own
// mailboxes (Deliver) or the durable SMTP queue (Send). Both are durable when
// they return (fsync), so SMTP replies can follow them (DESIGN.md rule 5).
type outbox struct {
	store *mailbox.Store
	queue *queue.Queue
}

func (o *outbox) Deliver(_ context.Context, address string, msg []byte) error {
	_, err := o.store.Deliver(address, bytes.NewReader(msg))
	return err
}

func (o *outbox) Send(_ context.Context, from string, to []string, msg []byte) error {
	_, err := o.queue.Enqueue(queue.Item{From: from, To: to, Data: msg})
	return err
}

// toDelivery adapts the delivery point to what the reception point expects:
// roles never import each other (STYLE 2); the root converts.
type toDelivery struct{ dp *deliverypoint.Point }

func (t toDelivery) Envelope(ctx context.Context, env receptionpoint.Envelope) error {
	return t.dp.Envelope(ctx, deliverypoint.Envelope{
		Raw: env.Raw, Message: env.Message, ReturnPath: env.ReturnPath, Recipients: env.Recipients,
	})
}

func (t toDelivery) Plain(ctx context.Context, recipients []string, msg []byte) error {
	return t.dp.Plain(ctx, recipients, msg)
}

// users authenticates the configured accounts for submission and IMAP.
type users map[string]string

func newUsers(list []User) users {
	u := users{}
	for _, x := range list {
		u[strings.ToLower(x.Address)] = x.Password
	}
	return u
}

// Authenticate compares in constant time.
func (u users) Authenticate(address, password string) bool {
	want, ok := u[strings.ToLower(address)]
	return ok && subtle.ConstantTimeCompare([]byte(want), []byte(password)) == 1
}
