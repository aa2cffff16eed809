package netguard

import (
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// AuthOptions set a Throttle; zero values take the defaults.
type AuthOptions struct {
	// Delay is the wait before the reply to a failed attempt, doubled for
	// each earlier failure of the same address in the window, up to MaxDelay
	// (defaults 1 s and 5 s). A correct password is answered at once.
	Delay, MaxDelay time.Duration
	// PerIP failures from one address (Peer) in a window, and the address
	// is refused for the rest of it (default 20).
	PerIP int
	// PerAccount failures on one account, from any address, and the
	// addresses that failed on it are refused it for the rest of the window
	// (default 5). An address that has not failed on the account, its owner
	// elsewhere, still logs in: a guesser spread over many addresses gets
	// one try from each.
	PerAccount int
	Window     time.Duration    // default 15 minutes
	Now        func() time.Time // default time.Now
	Log        *slog.Logger     // one warning per failure and refusal (rate-limited by the handler)
	Role       string           // role attribute of the log lines
}

// Throttle counts failed authentications per address and per account
// (issue 15: 200 wrong passwords in 0.27 s went without a delay or a log
// line). A nil *Throttle allows everything.
type Throttle struct {
	o                AuthOptions
	mu               sync.Mutex
	ips, accts, pair window
}

// NewThrottle returns a Throttle with o's limits.
func NewThrottle(o AuthOptions) *Throttle {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Delay, time.Second)
	def(&o.MaxDelay, 5*time.Second)
	def(&o.Window, 15*time.Minute)
	if o.PerIP <= 0 {
		o.PerIP = 20
	}
	if o.PerAccount <= 0 {
		o.PerAccount = 5
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	t := &Throttle{o: o}
	t.ips.length, t.accts.length, t.pair.length = o.Window, o.Window, o.Window
	return t
}

// account is the key of an account name: case-folded, bounded to the
// longest address (RFC 5321 §4.5.3.1.3).
func account(name string) string {
	name = strings.ToLower(name)
	if len(name) > 256 {
		name = name[:256]
	}
	return name
}

func pairKey(peer netip.Addr, acct string) string { return peer.String() + " " + acct }

// Allowed reports whether peer may try to authenticate as name ("" when the
// name is not known yet); a refusal is logged.
func (t *Throttle) Allowed(peer netip.Addr, name string) bool {
	if t == nil {
		return true
	}
	now, acct := t.o.Now(), account(name)
	t.mu.Lock()
	why := ""
	switch {
	case t.ips.get(peer.String(), now) >= t.o.PerIP:
		why = "failures from the address"
	case name != "" && t.accts.get(acct, now) >= t.o.PerAccount && t.pair.get(pairKey(peer, acct), now) > 0:
		why = "failures on the account"
	}
	t.mu.Unlock()
	if why != "" {
		t.o.Log.Warn("authentication refused", "role", t.o.Role, "remote", peer.String(), "user", acct, "reason", why)
	}
	return why == ""
}

// Failed counts a failed attempt of peer as name, logs it, and waits the
// delay before the caller replies.
func (t *Throttle) Failed(peer netip.Addr, name string) {
	if t == nil {
		return
	}
	now, acct := t.o.Now(), account(name)
	t.mu.Lock()
	n := t.ips.add(peer.String(), now)
	t.accts.add(acct, now)
	t.pair.add(pairKey(peer, acct), now)
	t.mu.Unlock()
	d := t.delay(n)
	t.o.Log.Warn("authentication failed", "role", t.o.Role, "remote", peer.String(), "user", acct,
		"failures", n, "delay", d)
	time.Sleep(d)
}

// delay is the wait after the nth failure of an address.
func (t *Throttle) delay(n int) time.Duration {
	d := t.o.Delay
	for i := 1; i < n && d < t.o.MaxDelay; i++ {
		d *= 2
	}
	return min(d, t.o.MaxDelay)
}

// Succeeded forgets peer's failures on name (a mistyped password, then the
// right one); the address's and the account's counts stay.
func (t *Throttle) Succeeded(peer netip.Addr, name string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.pair.forget(pairKey(peer, account(name)))
	t.mu.Unlock()
}
