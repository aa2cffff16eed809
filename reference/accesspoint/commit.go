package accesspoint

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/pecspec/pecspec/reference/once"
	"github.com/pecspec/pecspec/reference/spool"
	"github.com/pecspec/pecspec/reference/tracker"
	"github.com/pecspec/pecspec/reference/txlog"
)

// Commit is what one decided submission makes durable, composed before the
// first of it is made: the sender's ricevuta di accettazione or avviso di non
// accettazione and its registro record, and for an accepted message the
// tracker's dispatch and the busta di trasporto. They are made in the order
// dispatch, receipt, record, envelope — the envelope last — each named after
// what it is (package once), so that a commit a crash interrupted is
// completed by making it again (Replay), with nothing made twice (DESIGN.md
// rule 5). Without it a SIGKILL between the envelope and the accettazione
// sent an envelope that no accettazione and no registro record ever
// acknowledged, and the client's second submission a second one (issue 15,
// the chaos run).
type Commit struct {
	ID       string // the PEC msgid (identificativo)
	Sender   string // where the receipt goes: the authenticated reverse-path
	Receipt  []byte
	Record   *txlog.Record
	Dispatch *tracker.Dispatch // nil for a non-accettazione
	Envelope *Envelope         // nil for a non-accettazione
}

// Envelope is the busta di trasporto to queue: in memory, or a large one
// composed in the spool (File; the journal keeps its own link to the file).
type Envelope struct {
	From string
	To   []string
	Data []byte
	File *spool.Message `msgpack:"-"`
}

// Journal keeps a Commit durably from before its first output until its
// last (the provider keeps it in files): a crash in between leaves it to be
// replayed at the next start.
type Journal interface {
	// Begin makes c durable, a large envelope's file with it.
	Begin(c *Commit) error
	// End forgets a complete c.
	End(c *Commit)
}

// Key names c's outputs: derived from its PEC msgid, unique per
// submission, in the characters an output name may hold.
func (c *Commit) Key() string {
	h := sha256.Sum256([]byte("commit\x00" + c.ID))
	return hex.EncodeToString(h[:12])
}

// Scope is ctx carrying c's idempotency scope (package once).
func (c *Commit) Scope(ctx context.Context) context.Context { return once.With(ctx, c.Key()) }

// commit journals c, then makes its outputs. Once c is in the journal the
// submission is accepted, durably: an output that fails is left to the
// replay at the next start rather than refused, since a client told 4xx
// would submit again and the replay would make the first one too. On an
// error the submission is refused (4xx) and the caller still owns a large
// envelope's spool file; without a journal some outputs may have been made.
func (p *Point) commit(ctx context.Context, c *Commit) error {
	if p.Journal == nil {
		return p.make(ctx, c)
	}
	if err := p.Journal.Begin(c); err != nil {
		return fmt.Errorf("%w: journal: %v", ErrTemporary, err)
	}
	if err := p.make(ctx, c); err != nil {
		p.log().Error("commit incomplete: the journal completes it at the next start", "role", "accesspoint",
			"pec_id", c.ID, "err", err)
		return nil
	}
	p.Journal.End(c)
	return nil
}

// make makes c's outputs in order, each once (package once).
func (p *Point) make(ctx context.Context, c *Commit) error {
	ctx = c.Scope(ctx)
	if c.Dispatch != nil && p.Tracker != nil {
		if err := p.Tracker.Track(*c.Dispatch); err != nil {
			return fmt.Errorf("%w: tracker: %v", ErrTemporary, err)
		}
	}
	if err := p.Out.Deliver(ctx, c.Sender, c.Receipt); err != nil {
		return fmt.Errorf("%w: deliver %s: %v", ErrTemporary, c.Record.Event, err)
	}
	if err := p.record(ctx, c.Record); err != nil {
		return err
	}
	e := c.Envelope
	switch {
	case e == nil:
		return nil
	case e.File == nil:
		if err := p.Out.Send(ctx, e.From, e.To, e.Data); err != nil {
			return fmt.Errorf("%w: queue envelope: %v", ErrTemporary, err)
		}
	default:
		if err := p.Out.SendFile(ctx, e.From, e.To, e.File); err != nil {
			return fmt.Errorf("%w: queue envelope: %v", ErrTemporary, err)
		}
	}
	return nil
}

// Replay completes commits a crash interrupted (begun in the journal, not
// ended), before the instance takes new work: what was made is recognised
// and skipped (package once), the rest is made.
func (p *Point) Replay(ctx context.Context, cs []*Commit) error {
	for _, c := range cs {
		if err := p.make(ctx, c); err != nil {
			return fmt.Errorf("replay commit %s: %w", c.ID, err)
		}
		if p.Journal != nil {
			p.Journal.End(c)
		}
		p.log().Info("commit completed after a restart", "role", "accesspoint", "pec_id", c.ID, "event", c.Record.Event)
	}
	return nil
}
