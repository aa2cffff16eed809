package provider

import (
	"bytes"
	"context"
	"crypto/subtle"
	"strings"

	"github.com/pecspec/pecspec/reference/deliverypoint"
	"github.com/pecspec/pecspec/reference/mailbox"
	"github.com/pecspec/pecspec/reference/once"
	"github.com/pecspec/pecspec/reference/queue"
	"github.com/pecspec/pecspec/reference/receptionpoint"
	"github.com/pecspec/pecspec/reference/spool"
	"github.com/pecspec/pecspec/reference/txlog"
)

// outbox is where the points put what they produce: the sender's own
// mailboxes (Deliver) or the durable SMTP queue (Send). Both are durable when
// they return (fsync), so SMTP replies can follow them (DESIGN.md rule 5).
type outbox struct {
	store *mailbox.Store
	queue *queue.Queue
}

// Deliver stores msg in address's mailbox; within a replayable reception the
// delivery is named after what it is (package once) and made once.
func (o *outbox) Deliver(ctx context.Context, address string, msg []byte) error {
	if key, ok := once.Name(ctx, "deliver", address); ok {
		_, _, err := o.store.DeliverOnce(address, key, bytes.NewReader(msg))
		return err
	}
	_, err := o.store.Deliver(address, bytes.NewReader(msg))
	return err
}

// Send queues msg; within a replayable reception the item's ID is the
// output's name (package once), which the queue sends once.
func (o *outbox) Send(ctx context.Context, from string, to []string, msg []byte) error {
	it := queue.Item{From: from, To: to, Data: msg}
	if key, ok := sendName(ctx, from, to); ok {
		it.ID = key
	}
	_, err := o.queue.Enqueue(it)
	return err
}

// SendFile queues a large message composed in the spool by reference: the
// file moves into the queue. Within a replayable reception the item's ID is
// the output's name, as Send's (package once), sent once; a duplicate
// leaves the file to the caller (released).
func (o *outbox) SendFile(ctx context.Context, from string, to []string, msg *spool.Message) error {
	it := queue.Item{From: from, To: to}
	if key, ok := sendName(ctx, from, to); ok {
		it.ID = key
	}
	_, taken, err := o.queue.EnqueueFile(it, msg.Path())
	if err == nil && !taken {
		msg.Release()
	}
	return err
}

// sendName is the name of a queued output within a once scope: its queue
// item's ID.
func sendName(ctx context.Context, from string, to []string) (string, bool) {
	return once.Name(ctx, "send", append([]string{from}, to...)...)
}

// DeliverFile is Deliver for a large message in the spool, streamed into
// the Maildir, under the same name as Deliver's.
func (o *outbox) DeliverFile(ctx context.Context, address string, msg *spool.Message) error {
	f, err := msg.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	if key, ok := once.Name(ctx, "deliver", address); ok {
		_, _, err = o.store.DeliverOnce(address, key, f)
		return err
	}
	_, err = o.store.Deliver(address, f)
	return err
}

// Exists and Fits complete the delivery point's view of the mailboxes.
func (o *outbox) Exists(address string) bool         { return o.store.Exists(address) }
func (o *outbox) Fits(address string, size int) bool { return o.store.Fits(address, size) }

// registro appends to the transaction log; within a replayable reception the
// record carries the output's name (its event and the recipient it is about)
// as its key and is written once.
type registro struct{ log *txlog.Log }

func (r registro) Append(ctx context.Context, rec *txlog.Record) error {
	if key, ok := once.Name(ctx, "registro", string(rec.Event), rec.Consegna); ok {
		rec.Key = key
	}
	return r.log.Append(rec)
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

func (t toDelivery) PlainFile(ctx context.Context, recipients []string, msg *spool.Message) error {
	return t.dp.PlainFile(ctx, recipients, msg)
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
