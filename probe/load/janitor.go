package load

import (
	"context"
	"crypto/x509"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/pecspec/pecspec/probe"
)

// janitor deletes the messages a run matched, over its own session of the
// mailbox: a long run keeps the target's mailboxes small, and the watching
// session receives the EXPUNGE responses in order with its EXISTS ones.
type janitor struct {
	c        *imapclient.Client
	mu       sync.Mutex
	uids     []uint32
	uidplus  bool
	Expunged int
	Failed   error
}

func openJanitor(ctx context.Context, ep probe.Endpoint, roots *x509.CertPool, acct probe.Account) (*janitor, error) {
	c, err := login(ctx, ep, roots, acct, &imapclient.Options{})
	if err != nil {
		return nil, err
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		c.Close()
		return nil, err
	}
	caps := c.Caps()
	return &janitor{c: c, uidplus: caps.Has(imap.CapUIDPlus) || caps.Has(imap.CapIMAP4rev2)}, nil
}

func (j *janitor) add(uid uint32) {
	j.mu.Lock()
	j.uids = append(j.uids, uid)
	j.mu.Unlock()
}

// run expunges every half second until ctx is done, then once more and
// logs out.
func (j *janitor) run(ctx context.Context) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			j.flush()
		case <-ctx.Done():
			j.flush()
			_ = j.c.Logout().Wait()
			j.c.Close()
			return
		}
	}
}

// flush marks the collected UIDs \Deleted and expunges them (UID EXPUNGE,
// RFC 4315, when offered). A failure is kept, never fatal: the run's
// measurements do not depend on it.
func (j *janitor) flush() {
	j.mu.Lock()
	uids := j.uids
	j.uids = nil
	j.mu.Unlock()
	if len(uids) == 0 || j.Failed != nil {
		return
	}
	set := uidSet(uids)
	err := j.c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close()
	if err == nil {
		if j.uidplus {
			_, err = j.c.UIDExpunge(set).Collect()
		} else {
			_, err = j.c.Expunge().Collect()
		}
	}
	if err != nil {
		j.Failed = err
		return
	}
	j.Expunged += len(uids)
}
