package chaos

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pecspec/pecspec/pec"
)

// tally counts one kind of message the run must find.
type tally struct {
	want       int // expected, one each
	once       int // found exactly once
	duplicates int // found more than once: the copies over one
	lost       int // not found
}

// verdict is what the mailboxes hold against what the messages must have
// produced.
type verdict struct {
	kinds      map[pec.Kind]*tally
	problems   []string // lost or duplicated, the first ones
	unexpected []string // found but not expected, the first ones
	nUnexp     int
}

// verifiedKinds are the kinds counted, in the order printed.
var verifiedKinds = []pec.Kind{pec.KindAccettazione, pec.KindTrasporto, pec.KindPresaInCarico,
	pec.KindAvvenutaConsegna, pec.KindErroreConsegna}

// maxListed bounds the problems listed.
const maxListed = 20

// verify reads every mailbox the run fills and checks, for every message,
// exactly one accettazione in the sender's mailbox, one busta di trasporto
// in each recipient's, one presa in carico in the sender provider's
// receipts mailbox, and per recipient one avvenuta consegna — or, for the
// full mailbox, one avviso di mancata consegna (RFC 6109 §3.3.3) — naming
// that recipient; anything else in those mailboxes is unexpected. A message
// the client gave up on must have produced nothing.
func (r *run) verify() *verdict {
	seen := map[string]int{}
	for b := range r.expected() {
		for _, raw := range mailboxFiles(b.in, b.addr) {
			m := pec.Parse(raw)
			cons := ""
			if m.Postacert != nil {
				cons = strings.ToLower(strings.TrimSpace(pec.Deref(m.Postacert.Dati.Consegna)))
			}
			if k := m.Kind(); k != pec.KindAvvenutaConsegna && k != pec.KindErroreConsegna {
				cons = ""
			}
			seen[slot(m.Kind(), strings.TrimSpace(m.Header(pec.HeaderRiferimentoMsgID)), b.addr, cons)]++
		}
	}
	v := &verdict{kinds: map[pec.Kind]*tally{}}
	for _, k := range verifiedKinds {
		v.kinds[k] = &tally{}
	}
	for _, m := range r.msgs {
		m.mu.Lock()
		accepted := m.accepted
		m.mu.Unlock()
		expect := func(k pec.Kind, addr, cons string) {
			key := slot(k, m.id, addr, cons)
			n := seen[key]
			delete(seen, key)
			if !accepted {
				v.unexpect(n, "%d × %s about %s, which the client gave up on", n, k, m.id)
				return
			}
			v.count(k, n, fmt.Sprintf("%s about %s in %s", k, m.id, addr))
		}
		expect(pec.KindAccettazione, m.from.Address, "")
		expect(pec.KindPresaInCarico, m.sender.Receipts.Address, "")
		for _, rc := range m.rcpts {
			if rc == m.full {
				expect(pec.KindErroreConsegna, m.from.Address, rc)
				continue
			}
			expect(pec.KindTrasporto, rc, "")
			expect(pec.KindAvvenutaConsegna, m.from.Address, rc)
		}
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v.unexpect(seen[k], "%d × %s", seen[k], strings.ReplaceAll(k, "\x00", " "))
	}
	return v
}

// slot names one expected message: its kind, the client's Message-ID it
// refers to, the mailbox, and the recipient a delivery notice is about.
func slot(k pec.Kind, ref, addr, consegna string) string {
	return strings.Join([]string{string(k), ref, "in " + strings.ToLower(addr), consegna}, "\x00")
}

func (v *verdict) count(k pec.Kind, n int, what string) {
	t := v.kinds[k]
	t.want++
	switch {
	case n == 1:
		t.once++
	case n == 0:
		t.lost++
		v.problem("lost: %s", what)
	default:
		t.duplicates += n - 1
		v.problem("%d copies: %s", n, what)
	}
}

func (v *verdict) problem(format string, args ...any) {
	if len(v.problems) < maxListed {
		v.problems = append(v.problems, fmt.Sprintf(format, args...))
	}
}

func (v *verdict) unexpect(n int, format string, args ...any) {
	if n == 0 {
		return
	}
	v.nUnexp += n
	if len(v.unexpected) < maxListed {
		v.unexpected = append(v.unexpected, fmt.Sprintf(format, args...))
	}
}

// totals sums the tallies.
func (v *verdict) totals() (want, duplicates, lost int) {
	for _, t := range v.kinds {
		want, duplicates, lost = want+t.want, duplicates+t.duplicates, lost+t.lost
	}
	return want, duplicates, lost
}
