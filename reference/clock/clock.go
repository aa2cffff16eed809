// Package clock is the one source of time of a reference instance (DESIGN.md
// rule 3, RFC 6109 §4.1): every timestamp a provider writes and every timer it
// runs reads it. In the lab the clock is an Offset that the admin API advances,
// so the 12 h and 24 h flows run in seconds.
package clock

import (
	"sync"
	"time"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// System is the machine's clock.
type System struct{}

// Now returns time.Now.
func (System) Now() time.Time { return time.Now() }

// Offset is the system clock plus an offset that only grows: Advance moves it
// forward, never back, so timers never see time run backwards.
type Offset struct {
	mu     sync.Mutex
	offset time.Duration
	subs   []chan struct{}
}

// Now returns the system time plus the offset.
func (o *Offset) Now() time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return time.Now().Add(o.offset)
}

// Advance moves the clock forward by d (ignored when d <= 0) and wakes every
// subscriber, and returns the new offset.
func (o *Offset) Advance(d time.Duration) time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	if d > 0 {
		o.offset += d
		for _, c := range o.subs {
			select {
			case c <- struct{}{}:
			default:
			}
		}
	}
	return o.offset
}

// Offset returns how far the clock is ahead of the system clock.
func (o *Offset) Offset() time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.offset
}

// Subscribe returns a channel that receives (coalesced) after each Advance.
func (o *Offset) Subscribe() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	c := make(chan struct{}, 1)
	o.subs = append(o.subs, c)
	return c
}
