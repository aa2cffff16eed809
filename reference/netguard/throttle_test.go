package netguard

import (
	"bytes"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

var (
	attacker = netip.MustParseAddr("192.0.2.66")
	owner    = netip.MustParseAddr("198.51.100.7")
)

// TestThrottleDelays: each failure waits Delay doubled per earlier failure
// of the address, up to MaxDelay; each is logged.
func TestThrottleDelays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		th := NewThrottle(AuthOptions{PerIP: 100, PerAccount: 100, Role: "accesspoint",
			Log: slog.New(slog.NewTextHandler(&buf, nil))})
		var got []time.Duration
		for i := range 6 {
			start := time.Now()
			th.Failed(attacker, "user"+string(rune('a'+i)))
			got = append(got, time.Since(start))
		}
		want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("delays %v, want %v", got, want)
				break
			}
		}
		if n := strings.Count(buf.String(), `msg="authentication failed" role=accesspoint remote=192.0.2.66`); n != 6 {
			t.Errorf("%d failure lines, want 6:\n%s", n, buf.String())
		}
	})
}

// TestThrottlePerAddress: after PerIP failures an address is refused for
// every account until the window ends; another address is not.
func TestThrottlePerAddress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := NewThrottle(AuthOptions{PerIP: 3, Window: time.Minute, Delay: time.Millisecond})
		for i := range 3 {
			if !th.Allowed(attacker, "") {
				t.Fatalf("refused after %d failures", i)
			}
			th.Failed(attacker, "spray"+string(rune('a'+i))+"@pec.test")
		}
		if th.Allowed(attacker, "") || th.Allowed(attacker, "other@pec.test") {
			t.Error("allowed after 3 failures")
		}
		if !th.Allowed(owner, "") {
			t.Error("another address refused")
		}
		time.Sleep(time.Minute)
		if !th.Allowed(attacker, "") {
			t.Error("still refused after the window")
		}
	})
}

// TestThrottlePerAccount: after PerAccount failures on an account, the
// addresses that failed on it are refused it, its owner at another address
// is not; a success forgets the owner's own mistake.
func TestThrottlePerAccount(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := NewThrottle(AuthOptions{PerIP: 100, PerAccount: 2, Delay: time.Millisecond})
		th.Failed(owner, "Alice@pec.test") // a typo
		th.Succeeded(owner, "alice@pec.test")
		th.Failed(attacker, "alice@pec.test")
		th.Failed(attacker, "ALICE@pec.test")
		if th.Allowed(attacker, "alice@pec.test") {
			t.Error("the guessing address may still try the account")
		}
		if !th.Allowed(attacker, "bob@pec.test") {
			t.Error("the guessing address is refused another account")
		}
		if !th.Allowed(owner, "alice@pec.test") {
			t.Error("the owner's address is refused its account")
		}
		var nilThrottle *Throttle
		if !nilThrottle.Allowed(attacker, "x") {
			t.Error("a nil Throttle refused")
		}
		nilThrottle.Failed(attacker, "x")
	})
}

// TestWindowBounded: the failure table never holds more than maxKeys keys.
func TestWindowBounded(t *testing.T) {
	w := window{length: time.Hour}
	now := time.Now()
	for i := range maxKeys + 10 {
		w.add(strconv.Itoa(i), now.Add(time.Duration(i)))
	}
	if len(w.m) > maxKeys {
		t.Errorf("%d keys, bound %d", len(w.m), maxKeys)
	}
	if w.get(strconv.Itoa(maxKeys+9), now.Add(maxKeys+9)) != 1 {
		t.Error("the newest key was dropped")
	}
}
