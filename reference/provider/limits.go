package provider

import (
	"fmt"
	"net"
	"time"

	"github.com/pecspec/pecspec/reference/netguard"
)

// Limits bound what peers may hold of the instance's listeners and how often
// they may fail to authenticate (issue 15; package netguard). Each applies to
// the submission, MX and admin listeners separately; zero values take the
// defaults.
type Limits struct {
	// Connections at once per listener (default 256), and from one address
	// (IPv6: one /64; default 64). Over them SMTP gets 421 4.7.0 and the
	// admin API 503; implicit TLS is closed without a word.
	Connections      int `yaml:"connections,omitempty"`
	ConnectionsPerIP int `yaml:"connections_per_ip,omitempty"`
	// TLSHandshake is how long an implicit-TLS client has to complete its
	// handshake (default 10s).
	TLSHandshake time.Duration `yaml:"tls_handshake,omitempty"`
	// Idle is how long the SMTP servers wait for a command and, go-smtp
	// setting it once per command, for a whole DATA transfer (default 5m,
	// the minimum RFC 5321 §4.5.3.2.7 asks of a server).
	Idle time.Duration `yaml:"idle,omitempty"`
	// AuthDelay is the wait before answering a failed AUTH, doubled per
	// earlier failure of the address up to AuthMaxDelay (defaults 1s, 5s).
	AuthDelay    time.Duration `yaml:"auth_delay,omitempty"`
	AuthMaxDelay time.Duration `yaml:"auth_max_delay,omitempty"`
	// AuthFailuresPerIP failed AUTHs from one address in AuthWindow, and
	// it is refused (421) for the rest of the window (default 20);
	// AuthFailuresPerAccount on one account, and the addresses that failed
	// on it are refused it (default 5); AuthWindow default 15m.
	AuthFailuresPerIP      int           `yaml:"auth_failures_per_ip,omitempty"`
	AuthFailuresPerAccount int           `yaml:"auth_failures_per_account,omitempty"`
	AuthWindow             time.Duration `yaml:"auth_window,omitempty"`
}

func (l Limits) withDefaults() Limits {
	setInt := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	setDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	setInt(&l.Connections, netguard.DefaultMax)
	setInt(&l.ConnectionsPerIP, netguard.DefaultPerIP)
	setDur(&l.TLSHandshake, netguard.DefaultHandshake)
	setDur(&l.Idle, 5*time.Minute)
	setDur(&l.AuthDelay, time.Second)
	setDur(&l.AuthMaxDelay, 5*time.Second)
	setInt(&l.AuthFailuresPerIP, 20)
	setInt(&l.AuthFailuresPerAccount, 5)
	setDur(&l.AuthWindow, 15*time.Minute)
	return l
}

func (l Limits) validate() []error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int64
	}{{"connections", int64(l.Connections)}, {"connections_per_ip", int64(l.ConnectionsPerIP)},
		{"tls_handshake", int64(l.TLSHandshake)}, {"idle", int64(l.Idle)}, {"auth_delay", int64(l.AuthDelay)},
		{"auth_max_delay", int64(l.AuthMaxDelay)}, {"auth_failures_per_ip", int64(l.AuthFailuresPerIP)},
		{"auth_failures_per_account", int64(l.AuthFailuresPerAccount)}, {"auth_window", int64(l.AuthWindow)}} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("%w: limits.%s is negative", ErrConfig, f.name))
		}
	}
	if l.ConnectionsPerIP > l.Connections && l.Connections > 0 {
		errs = append(errs, fmt.Errorf("%w: limits.connections_per_ip %d is above limits.connections %d",
			ErrConfig, l.ConnectionsPerIP, l.Connections))
	}
	return errs
}

// throttle is the failed-AUTH throttle of the submission server.
func (l Limits) throttle(p *Provider) *netguard.Throttle {
	return netguard.NewThrottle(netguard.AuthOptions{Delay: l.AuthDelay, MaxDelay: l.AuthMaxDelay,
		PerIP: l.AuthFailuresPerIP, PerAccount: l.AuthFailuresPerAccount, Window: l.AuthWindow,
		Log: p.log, Role: "accesspoint"})
}

// guard caps listener ln as name; refusal is what a connection over a cap
// gets (nil: closed without a word).
func (l Limits) guard(p *Provider, ln net.Listener, name string, refusal []byte) *netguard.Listener {
	return netguard.Limit(ln, netguard.Options{Name: name, Max: l.Connections, PerIP: l.ConnectionsPerIP,
		Refusal: refusal, Log: p.log})
}
