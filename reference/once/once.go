// Package once makes the processing of an incoming message idempotent across
// crashes (DESIGN.md rule 5; issue "every PEC flow": after a kill -9 and a
// restart, in-flight work completes without duplicate receipts).
//
// A sending MTA that did not see the 250 after DATA sends the same message
// again. The reception point processes it again under the same key, and every
// output of that processing — a queued receipt, a mailbox delivery, a
// registro record — is named after the key and its ordinal, so what the
// first, interrupted run already made durable is recognised and skipped: the
// output stores (queue, Maildir, registro) refuse a name they already hold.
package once

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

type scopeKey struct{}

type scope struct {
	key string
	n   atomic.Int64
}

// With returns ctx carrying the idempotency scope of the message key.
func With(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, scopeKey{}, &scope{key: key})
}

// Next names the next output of the scope in ctx ("<key>-<n>", n from 1), or
// reports false outside a scope. Outputs must be made in the same order when
// the processing is replayed: the reception point is deterministic.
func Next(ctx context.Context) (string, bool) {
	s, ok := ctx.Value(scopeKey{}).(*scope)
	if !ok {
		return "", false
	}
	return s.key + "-" + strconv.FormatInt(s.n.Add(1), 10), true
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
