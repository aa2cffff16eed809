package load

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pecspec/pecspec/probe"
)

// Options configure a run.
type Options struct {
	Target *probe.Target
	Roots  *x509.CertPool
	// Rate is the messages per second the schedule offers (the first step of
	// a ramp); default 5.
	Rate float64
	// Duration is the sending window (each step of a ramp); default 30 s. A
	// message due in it may start up to max(1 s, Duration/10) after it;
	// one that could not is counted unsent.
	Duration time.Duration
	// Drain is how long the receipts are waited for after the window;
	// default 60 s. A run ends by itself at Duration, its grace and Drain
	// (per step), plus at most one submission's timeout.
	Drain time.Duration
	// Connections are the SMTP submission sessions, each kept for many
	// messages; default 16. Messages never wait for each other's receipts.
	Connections int
	// Senders is how many of the target's accounts submit (its accounts,
	// then its bulk_accounts); default every account in the file.
	Senders int
	// Recipients per message, at the counterpart (its accounts, then its
	// bulk_accounts); default 1.
	Recipients int
	// Size of each message in bytes; default 2048.
	Size int
	// ReceiptType is the X-TipoRicevuta asked for: "" (completa), breve or
	// sintetica (RFC 6109 §3.3.2).
	ReceiptType string
	// SLAs judge each phase; nil means DefaultSLAs (an empty slice: none).
	SLAs []SLA
	// Ramp, when set, steps the rate up until an SLA breaks.
	Ramp *Ramp
	// GradeSample is the share of arrivals graded (the first of each kind
	// always is when > 0); Grader grades them and Evidence keeps the ones
	// that fail.
	GradeSample float64
	Grader      Grader
	Evidence    *probe.Evidence
	// Keep leaves the matched messages in the mailboxes (by default they are
	// expunged as they are counted, so a long run keeps them small).
	Keep bool
	// Progress receives a live line each second (Terminal: rewritten in
	// place) or, when not Terminal, one line every 10 s.
	Progress io.Writer
	Terminal bool
	// OnMessage is called as each message completes or is lost.
	OnMessage func(MessageResult)
}

// Ramp steps the rate: Factor times the previous step (default 1.5), at most
// MaxSteps steps (default 12) and not above MaxRate (0: no bound).
type Ramp struct {
	Factor   float64 `json:"factor"`
	MaxSteps int     `json:"max_steps"`
	MaxRate  float64 `json:"max_rate,omitempty"`
}

// ErrOptions wraps every invalid option.
var ErrOptions = errors.New("load: options")

func (o *Options) defaults() {
	if o.Rate <= 0 {
		o.Rate = 5
	}
	if o.Duration <= 0 {
		o.Duration = 30 * time.Second
	}
	if o.Drain <= 0 {
		o.Drain = time.Minute
	}
	if o.Connections <= 0 {
		o.Connections = 16
	}
	if o.Recipients <= 0 {
		o.Recipients = 1
	}
	if o.Size <= 0 {
		o.Size = 2048
	}
	if o.SLAs == nil {
		o.SLAs, _ = ParseSLAs(DefaultSLAs)
	}
	if r := o.Ramp; r != nil {
		if r.Factor <= 1 {
			r.Factor = 1.5
		}
		if r.MaxSteps <= 0 {
			r.MaxSteps = 12
		}
	}
}

// check validates the options against the target's declared limits.
func (o *Options) check() error {
	t := o.Target
	if t == nil {
		return fmt.Errorf("%w: no target", ErrOptions)
	}
	if t.Counterpart == nil {
		return fmt.Errorf("%w: the target file names no counterpart: the load sends to its accounts", ErrOptions)
	}
	maxBytes, maxRcpt := t.Limits()
	var errs []error
	if int64(o.Size) > maxBytes {
		errs = append(errs, fmt.Errorf("%w: --size %d is above the target's declared limit of %d bytes", ErrOptions, o.Size, maxBytes))
	}
	if o.Recipients > maxRcpt {
		errs = append(errs, fmt.Errorf("%w: --recipients %d is above the target's declared limit of %d", ErrOptions, o.Recipients, maxRcpt))
	}
	if o.ReceiptType != "" && o.ReceiptType != "completa" && o.ReceiptType != "breve" && o.ReceiptType != "sintetica" {
		errs = append(errs, fmt.Errorf("%w: receipt type %q is not completa, breve or sintetica", ErrOptions, o.ReceiptType))
	}
	if o.GradeSample < 0 || o.GradeSample > 1 {
		errs = append(errs, fmt.Errorf("%w: --grade-sample %g is not between 0 and 1", ErrOptions, o.GradeSample))
	}
	for _, b := range []*probe.BulkAccounts{t.BulkAccounts, t.Counterpart.BulkAccounts} {
		if err := b.Check(t.Name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// pool returns n accounts of p: its user accounts (not an outcome-simulation
// mailbox), then its bulk accounts.
func pool(p *probe.Target, n int, what string) ([]probe.Account, error) {
	out := p.UserAccounts()
	for i := 1; len(out) < n; i++ {
		a, err := p.BulkAccounts.Account(p.Domains[0], i)
		if err != nil {
			return nil, fmt.Errorf("%w: %d %s asked, %s has %d accounts and %d bulk_accounts", ErrOptions, n, what, p.Name,
				len(p.UserAccounts()), bulkCount(p.BulkAccounts))
		}
		out = append(out, a)
	}
	return out[:n], nil
}

func bulkCount(b *probe.BulkAccounts) int {
	if b == nil {
		return 0
	}
	return b.Count
}
