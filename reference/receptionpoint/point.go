// Package receptionpoint implements the punto di ricezione of the reference
// provider (RFC 6109 §2.2.2, §3.2, §5.3): the MX that accepts mail from other
// providers and from the Internet, verifies the signature and its origin in the
// index, and decides (pec-rules §7.2): a correct busta di trasporto gets a
// ricevuta di presa in carico and goes to the delivery point; a correct notice
// goes to the delivery point as it is; anything else is wrapped in a busta di
// anomalia.
package receptionpoint

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/reference/antivirus"
	"github.com/pecspec/pecspec/reference/clock"
	"github.com/pecspec/pecspec/reference/compose"
	"github.com/pecspec/pecspec/reference/index"
	"github.com/pecspec/pecspec/reference/spool"
	"github.com/pecspec/pecspec/reference/txlog"
)

// Directory finds the provider owning a signing certificate (RFC 6109 §2.2.2
// step 2, via providerCertificateHash).
type Directory interface {
	ByCertHash(ctx context.Context, hexSHA1 string) (*index.Provider, error)
}

// Delivery is the delivery point as the reception point sees it.
type Delivery interface {
	// Envelope delivers a correct busta di trasporto to this provider's
	// recipients and emits the delivery receipts (RFC 6109 §3.3).
	Envelope(ctx context.Context, env Envelope) error
	// Plain stores msg unmodified in each recipient's mailbox: notices and
	// anomaly envelopes (RFC 6109 §2.2.3).
	Plain(ctx context.Context, recipients []string, msg []byte) error
	// PlainFile is Plain for a large message composed in the spool.
	PlainFile(ctx context.Context, recipients []string, msg *spool.Message) error
}

// Envelope is a verified, well-formed busta di trasporto for local recipients.
type Envelope struct {
	Raw        []byte
	Message    *pec.Message
	ReturnPath string   // SMTP MAIL FROM: the original sender (TRN-15)
	Recipients []string // this provider's recipients in the SMTP transaction
}

// Sender queues a message for SMTP delivery (durable when it returns).
type Sender interface {
	Send(ctx context.Context, from string, to []string, msg []byte) error
}

// Point is one reception point.
type Point struct {
	Sealer    *compose.Sealer
	Directory Directory
	Trust     *x509.CertPool // the CAs of PEC signing certificates
	Delivery  Delivery
	Out       Sender
	Clock     clock.Clock
	Domains   []string // this provider's managedDomains
	// Scanner checks correct envelopes for viruses (RFC 6109 §3.2.3); nil
	// scans nothing.
	Scanner antivirus.Scanner
	// Viruses keeps infected envelopes (RFC 6109 §2.2.4, OPS-01).
	Viruses VirusStore
	// Tracker hears, on the sender side, the receipts that stop the 12 h /
	// 24 h timers (RFC 6109 §3.1.6); nil when none run.
	Tracker Tracker
	// Holds withholds steps for chosen messages (lab only); nil holds none.
	Holds Holds
	// RefusesOrdinary reports whether a mailbox refuses ordinary (non-PEC)
	// mail instead of taking it in a busta di anomalia; nil refuses none.
	RefusesOrdinary func(address string) bool
	// SimulatesVirus reports whether a mailbox is an outcome-simulation
	// address whose envelopes count as infected (lab only); nil: none.
	SimulatesVirus func(address string) bool
	// Registro records every event (RFC 6109 §2.3); nil records none.
	Registro compose.Registro
	Log      *slog.Logger
	// Spool receives every message the MX takes (streamed to a file, then
	// mapped) and holds large anomaly envelopes while they are composed.
	Spool *spool.Dir
}

// VirusStore keeps infected messages for 30 months (RFC 6109 §2.2.4).
type VirusStore interface {
	Keep(msg io.Reader) error
}

// Tracker is the sender side's memory of dispatched messages (RFC 6109
// §3.1.6): identificativo and recipients as the receipts give them.
type Tracker interface {
	TakenInCharge(id string, covered []string) error
	Outcome(id, recipient string) error
}

// Step names what Holds may withhold: the presa in carico, or the delivery
// with its avvenuta consegna.
type Step string

// The steps the lab can withhold (RFC 6109 §3.1.6 cases a, b, c).
const (
	StepPresaInCarico Step = "presa-in-carico"
	StepConsegna      Step = "consegna"
)

// Holds lets the lab make this provider withhold a step for chosen messages,
// so that the sender's timers run out. Hold returns true when step is held
// for m; later then runs when the lab releases it.
type Holds interface {
	Hold(step Step, m *pec.Message, later func(context.Context) error) bool
}

// Incoming is one message received by the MX.
type Incoming struct {
	From string // MAIL FROM
	To   []string
	// Data is the message with the MX's trace field first: the spool
	// file's pages (Spool), valid until Receive returns.
	Data   []byte
	Remote string
	TLS    bool
}

// Local reports whether addr is in one of this provider's domains.
func (p *Point) Local(addr string) bool {
	_, d, _ := strings.Cut(addr, "@")
	for _, own := range p.Domains {
		if strings.EqualFold(d, own) {
			return true
		}
	}
	return false
}

// local keeps the addresses of this provider's domains.
func (p *Point) local(addrs []string) []string {
	var mine []string
	for _, r := range addrs {
		if p.Local(r) {
			mine = append(mine, r)
		}
	}
	return mine
}

func (p *Point) log() *slog.Logger {
	if p.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Log
}

// host is the name the MX records in its trace fields: its first domain.
func (p *Point) host() string {
	if len(p.Domains) > 0 {
		return p.Domains[0]
	}
	return "localhost"
}

// record appends rec to the registro (RFC 6109 §2.3, LOG-01).
func (p *Point) record(ctx context.Context, rec *txlog.Record) error {
	if err := compose.Log(ctx, p.Registro, rec); err != nil {
		return fmt.Errorf("%w: registro: %v", ErrTemporary, err)
	}
	return nil
}
