package accesspoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/pecspec/pecspec/reference/antivirus"
	"github.com/pecspec/pecspec/reference/clock"
	"github.com/pecspec/pecspec/reference/compose"
	"github.com/pecspec/pecspec/reference/index"
	"github.com/pecspec/pecspec/reference/spool"
	"github.com/pecspec/pecspec/reference/tracker"
	"github.com/pecspec/pecspec/reference/txlog"
)

// Directory classifies recipient domains (RFC 6109 §2.2.1): a domain in some
// provider's managedDomains is certificato, any other is esterno.
type Directory interface {
	ByDomain(ctx context.Context, domain string) (*index.Provider, error)
}

// Output is where accepted work goes; Deliver and Send are durable when they
// return (DESIGN.md rule 5), so the submission can be acknowledged after them.
type Output interface {
	// Deliver stores a receipt in one of this provider's mailboxes.
	Deliver(ctx context.Context, address string, msg []byte) error
	// Send hands a message to the outbound queue (SMTP, STARTTLS).
	Send(ctx context.Context, from string, to []string, msg []byte) error
	// SendFile is Send for a large message composed in the spool: queued
	// by reference (the file is handed over, not read).
	SendFile(ctx context.Context, from string, to []string, msg *spool.Message) error
}

// Point is one access point.
type Point struct {
	Sealer    *compose.Sealer
	Directory Directory
	Scanner   antivirus.Scanner
	Out       Output
	Clock     clock.Clock
	// MaxTotal bounds size × recipients (RFC 6109 §3.1.1 check 7; 30 MB by Italian law).
	MaxTotal int64
	// Viruses keeps infected submissions as they are (RFC 6109 §2.2.4, OPS-01).
	Viruses VirusStore
	// Tracker starts the 12 h / 24 h timers of each dispatched message (RFC
	// 6109 §3.1.6); nil runs none.
	Tracker Tracker
	// Registro records every event (RFC 6109 §2.3); nil records none.
	Registro compose.Registro
	Log      *slog.Logger
	// Spool is where large envelopes are composed (streamed, never held in
	// memory); the SMTP server spools each submission there too.
	Spool *spool.Dir
	// Journal keeps each submission's outputs from before the first is made
	// until the last (commit.go); nil keeps none (a crash may then leave a
	// submission half made).
	Journal Journal
}

// VirusStore keeps infected messages for 30 months (RFC 6109 §2.2.4); Keep is
// durable when it returns.
type VirusStore interface {
	Keep(msg io.Reader) error
}

// Tracker follows a dispatched message until its outcomes or timeouts.
type Tracker interface {
	Track(d tracker.Dispatch) error
}

// Submission is one message as the user's client handed it over SMTP.
type Submission struct {
	User string   // the authenticated account
	From string   // MAIL FROM (reverse-path)
	To   []string // RCPT TO (forward-paths)
	// Message is the message as it arrived, spooled to a file (DATA).
	Message *spool.Message
}

// Rejection is a submission refused before it entered the PEC system, with
// the SMTP reply the client gets.
type Rejection struct {
	Code     int
	Enhanced [3]int
	Rule     string // the rule the submission broke, e.g. "APC-05"
	Reason   string
}

func (r *Rejection) Error() string {
	return fmt.Sprintf("%s: %s", r.Rule, r.Reason)
}

// ErrTemporary marks failures of the provider's own components (index,
// antivirus, disk): the client should retry.
var ErrTemporary = errors.New("accesspoint: temporary failure")

func reject(code int, enh [3]int, rule, format string, a ...any) *Rejection {
	return &Rejection{Code: code, Enhanced: enh, Rule: rule, Reason: fmt.Sprintf(format, a...)}
}

func domainOf(addr string) string {
	_, d, _ := strings.Cut(addr, "@")
	return strings.ToLower(d)
}

func (p *Point) log() *slog.Logger {
	if p.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Log
}

// record appends rec to the registro (RFC 6109 §2.3, LOG-01).
func (p *Point) record(ctx context.Context, rec *txlog.Record) error {
	if err := compose.Log(ctx, p.Registro, rec); err != nil {
		return fmt.Errorf("%w: registro: %v", ErrTemporary, err)
	}
	return nil
}
