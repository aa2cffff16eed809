// Package once makes the processing of an incoming message idempotent across
// crashes (DESIGN.md rule 5; issue "every PEC flow": after a kill -9 and a
// restart, in-flight work completes without duplicate receipts).
//
// A sending MTA that did not see the 250 after DATA sends the same message
// again. The reception point processes it again under the same key, and every
// output of that processing — a queued receipt, a mailbox delivery, a
// registro record — is named after what it is: the key, the kind of notice
// or event, the recipient it is about, and where it goes. What the first,
// interrupted run already made durable is recognised and skipped, whatever
// order the replay makes its outputs in (recipients in another order, a step
// withheld the first time): the output stores (queue, Maildir, registro)
// refuse a name they already hold (issue 15).
package once

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
)

type scopeKey struct{}

type aboutKey struct{}

// about is what the outputs made under a context are: a notice kind or an
// event, and the recipient it concerns ("" when it concerns them all).
type about struct{ kind, recipient string }

// With returns ctx carrying the idempotency scope of the message key.
func With(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, scopeKey{}, key)
}

// About returns ctx whose outputs are of kind (e.g. "consegna",
// "presa-in-carico") and about recipient. Outputs that differ only by the
// recipient they concern — one receipt per recipient, all to the sender —
// must be made under different About contexts.
func About(ctx context.Context, kind, recipient string) context.Context {
	return context.WithValue(ctx, aboutKey{}, about{kind: kind, recipient: strings.ToLower(strings.TrimSpace(recipient))})
}

// Name names an output of the scope in ctx, or reports false outside a
// scope: "<key>-<hash>", the hash over the About kind and recipient, the sink
// (deliver, send, registro …) and the output's destination (an address, the
// recipients of a queued message, an event). The same output of a replay gets
// the same name, whatever the order of the outputs around it.
func Name(ctx context.Context, sink string, dest ...string) (string, bool) {
	key, ok := ctx.Value(scopeKey{}).(string)
	if !ok {
		return "", false
	}
	a, _ := ctx.Value(aboutKey{}).(about)
	h := sha256.New()
	for _, part := range append([]string{a.kind, a.recipient, sink}, dest...) {
		h.Write([]byte(strings.ToLower(part)))
		h.Write([]byte{0})
	}
	return key + "-" + hex.EncodeToString(h.Sum(nil)[:8]), true
}

// Key identifies one incoming message to a set of recipients: the SHA-256 of
// its bytes as received (a retrying MTA sends the very same bytes) and of the
// recipients. Two different messages under one Message-ID — a forgery, an
// altered copy — are different keys.
func Key(rcpts []string, data []byte) string {
	h := sha256.New()
	h.Write(data)
	rs := make([]string, len(rcpts))
	for i, r := range rcpts {
		rs[i] = strings.ToLower(strings.TrimSpace(r))
	}
	slices.Sort(rs)
	h.Write([]byte("\nrcpt:" + strings.Join(rs, ",")))
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// Busy stops two sessions from processing the same key at once (a retry that
// overtakes a slow first attempt): the second is told to come back later.
type Busy struct {
	mu   sync.Mutex
	keys map[string]bool
}

// Acquire claims key; ok is false when it is being processed.
func (b *Busy) Acquire(key string) (release func(), ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.keys == nil {
		b.keys = map[string]bool{}
	}
	if b.keys[key] {
		return nil, false
	}
	b.keys[key] = true
	return func() {
		b.mu.Lock()
		delete(b.keys, key)
		b.mu.Unlock()
	}, true
}
