package scenarios

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"strings"

	"github.com/pecspec/pecspec/probe"
)

// partyExpr matches a party in step text: a handle, optionally with where it
// lives ("bob at the counterpart"). A bare handle means the one bound earlier
// in the scenario, else an account of the target.
const partyExpr = `(\w+(?: at (?:the target|the counterpart|the external domain|gamma))?)`

// listExpr matches "bob at the counterpart, carol at the external domain and
// erin at the target".
const listExpr = `(\w+(?: at (?:the target|the counterpart|the external domain|gamma))?(?:(?:, | and )\w+(?: at (?:the target|the counterpart|the external domain|gamma))?)*)`

// Roles a party can have.
const (
	roleTarget      = "target"
	roleCounterpart = "counterpart"
	roleExternal    = "external domain"
	roleGamma       = "gamma" // the scriptable peer: its mail is read from the probe's own MX
)

// party is one mailbox of the scenario.
type party struct {
	handle   string
	role     string
	provider *probe.Target // nil for the external domain
	account  probe.Account
	imap     probe.Endpoint
	pop3     probe.Endpoint // zero when the target file names none
	// unknown is true for an address that no mailbox has ("nobody").
	unknown bool
}

// Address is the party's mail address.
func (p *party) Address() string { return p.account.Address }

var partyRE = regexp.MustCompile(`^(\w+)(?: at (?:the (target|counterpart|external domain)|(gamma)))?$`)

// party resolves a party phrase and binds its handle for the rest of the
// scenario. The handle "nobody" is an address without a mailbox at that
// provider (RFC 6109 §3.3.3 no-dest).
func (w *World) party(phrase string) (*party, error) {
	m := partyRE.FindStringSubmatch(strings.TrimSpace(phrase))
	if m == nil {
		return nil, harnessf("%q is not a party (handle [at the target|counterpart|external domain])", phrase)
	}
	handle, role := m[1], m[2]+m[3]
	if role == "" {
		if p, ok := w.parties[handle]; ok {
			return p, nil
		}
		role = roleTarget
	}
	key := handle + "@" + role
	if p, ok := w.parties[key]; ok {
		return p, nil
	}
	p, err := w.r.resolve(handle, role)
	if err != nil {
		return nil, err
	}
	w.parties[key] = p
	if _, taken := w.parties[handle]; !taken {
		// The first party with a handle owns the bare handle.
		w.parties[handle] = p
	}
	return p, nil
}

// resolve finds handle at role in the target file.
func (r *runner) resolve(handle, role string) (*party, error) {
	t := r.opts.Target
	if role == roleGamma {
		if r.peer == nil {
			return nil, harnessf("the target file names no peer (gamma)")
		}
		return &party{handle: handle, role: role, account: probe.Account{Address: handle + "@" + r.peer.Cfg.Domain}}, nil
	}
	if role == roleExternal {
		x := t.External
		if x == nil {
			return nil, harnessf("the target file names no external (ordinary) mail domain")
		}
		p := &party{handle: handle, role: role, imap: x.IMAP, pop3: x.POP3}
		if handle == "nobody" {
			p.account, p.unknown = probe.Account{Address: unknownLocal() + "@" + x.Domain}, true
			return p, nil
		}
		a, ok := x.Account(handle)
		if !ok {
			a, ok = bulkHandle(x.BulkAccounts, x.Domain, handle) // limits_steps.go
		}
		if !ok {
			return nil, harnessf("no account %q at the external domain %s", handle, x.Domain)
		}
		p.account = a
		return p, nil
	}
	prov := t
	if role == roleCounterpart {
		if prov = t.Counterpart; prov == nil {
			return nil, harnessf("the target file names no counterpart provider")
		}
	}
	p := &party{handle: handle, role: role, provider: prov, imap: prov.IMAP, pop3: prov.POP3}
	if handle == "nobody" {
		p.account, p.unknown = probe.Account{Address: unknownLocal() + "@" + prov.Domains[0]}, true
		return p, nil
	}
	a, ok := prov.Account(handle)
	if !ok {
		a, ok = bulkHandle(prov.BulkAccounts, prov.Domains[0], handle) // limits_steps.go
	}
	if !ok {
		return nil, harnessf("no account %q at the %s %s", handle, role, prov.Name)
	}
	p.account = a
	return p, nil
}

// parties resolves a list phrase.
func (w *World) partyList(list string) ([]*party, error) {
	var out []*party
	for _, item := range strings.FieldsFunc(strings.ReplaceAll(list, " and ", ","), func(r rune) bool { return r == ',' }) {
		p, err := w.party(item)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func unknownLocal() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "nessuno-" + hex.EncodeToString(b[:])
}

// mailbox returns an open IMAP session on p's mailbox (one per scenario and
// mailbox).
func (w *World) mailbox(ctx context.Context, p *party) (*probe.Mailbox, error) {
	if p.unknown || p.role == roleGamma {
		return nil, harnessf("%s has no mailbox to read over IMAP", p.Address())
	}
	key := strings.ToLower(p.Address())
	if b, ok := w.boxes[key]; ok {
		return b, nil
	}
	ctx, cancel := context.WithTimeout(ctx, w.r.opts.StepTimeout)
	defer cancel()
	var b *probe.Mailbox
	err := w.r.breaker.call(p.imap.Addr(), func() (err error) {
		b, err = probe.OpenMailbox(ctx, p.imap, w.r.trust, p.account)
		return err
	})
	if err != nil {
		return nil, err
	}
	w.boxes[key] = b
	return b, nil
}

// service returns the receipts mailbox (mailReceipt) of the target or the
// counterpart as a party.
func (w *World) service(role string) (*party, error) {
	if role == roleGamma {
		if w.r.peer == nil {
			return nil, harnessf("the target file names no peer (gamma)")
		}
		return &party{handle: "service", role: role, account: probe.Account{Address: w.r.peer.Cfg.ReceiptsAddress}}, nil
	}
	prov := w.r.opts.Target
	if role == roleCounterpart {
		prov = prov.Counterpart
	}
	if prov == nil {
		return nil, harnessf("the target file names no %s", role)
	}
	if prov.ReceiptsMailbox.Address == "" {
		return nil, harnessf("%s: the target file names no receipts_mailbox", prov.Name)
	}
	return &party{handle: "service", role: role, provider: prov, account: prov.ReceiptsMailbox, imap: prov.IMAP,
		pop3: prov.POP3}, nil
}
