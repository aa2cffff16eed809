package chaos

import (
	"fmt"
	"sync"
	"time"

	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/reference/lab"
)

// message is one certified message of the run and what became of it.
type message struct {
	n      int
	id     string // its Message-ID, with brackets
	raw    []byte
	from   lab.Account
	sender *lab.Instance
	rcpts  []string
	full   string // the full mailbox among rcpts, "" when none

	mu       sync.Mutex
	accepted bool
	found    bool // known accepted by its accettazione, after a lost connection
}

// senders is how many bulk accounts of each provider send.
const senders = 20

// plan makes the messages and the faults. Message n goes alpha → beta when
// n is even, beta → alpha when odd, from one of carico001–020 to one of the
// other provider's carico101–200 chosen at random; every tenth (n%10 == 5)
// to a second one too, and every fiftieth (n%50 == 0) also to the other
// provider's full mailbox (lab.FullMailbox), which must answer with an
// avviso di mancata consegna (RFC 6109 §3.3.3) instead of a consegna.
func (r *run) plan() {
	a, b := r.l.Provider("alpha"), r.l.Provider("beta")
	for n := range r.set.messages {
		from, to := a, b
		if n%2 == 1 {
			from, to = b, a
		}
		m := &message{n: n, sender: from, from: r.l.BulkAccounts(from.Domain)[(n/2)%senders]}
		first := 101 + r.rng.IntN(100)
		m.rcpts = []string{bulkAddress(to, first)}
		if n%10 == 5 {
			m.rcpts = append(m.rcpts, bulkAddress(to, 101+(first-101+1+r.rng.IntN(99))%100))
		}
		if n%50 == 0 {
			m.full = lab.FullMailbox + "@" + to.Domain
			m.rcpts = append(m.rcpts, m.full)
		}
		m.id, m.raw = probe.NewOriginal(m.from.Address, m.rcpts, nil, fmt.Sprintf("Chaos %04d", n),
			fmt.Sprintf("Buongiorno,\r\nmessaggio %d della prova di resistenza.\r\n", n))
		r.msgs = append(r.msgs, m)
	}
	r.events = r.planEvents()
}

func bulkAddress(in *lab.Instance, k int) string {
	return fmt.Sprintf("%s%03d@%s", lab.BulkPrefix, k, in.Domain)
}

// The kinds of fault.
const (
	kindKill     = "SIGKILL"
	kindFreeze   = "SIGSTOP 30 s"
	kindReset    = "proxy reset"
	kindHalfOpen = "proxy half-open"
)

// freezeFor is how long slapd stays frozen (issue 15).
const freezeFor = 30 * time.Second

// event is one fault and what it took to recover from it.
type event struct {
	kind   string
	target string    // alpha, beta, clamd, slapd; for the proxy, the instance it leads to
	at     int       // fired once this many messages were accepted
	from   time.Time // the start of a freeze (zero for the others)
	t0     time.Time // the fault, or the end of the freeze: recovery is measured from it
	// back: the process answers again (restart, or the thaw); health:
	// every affected instance's /health is ok; firstOK: the first
	// submission started after the fault, on an affected instance, is
	// accepted. Each from t0; 0 when not measured.
	back, health, firstOK time.Duration
	detail                string
}

// planEvents: ten kills — alpha and beta three times each, clamd and slapd
// twice — and five resets of a proxy (alternating directions), in a random
// order. The freeze of slapd comes first, at 5 % of the messages accepted,
// with the traffic flowing through it for up to freezeShare % of the
// messages; the rest are spread evenly after it up to 90 % (respace, again
// once the freeze is over). The half-open connection comes right after the
// last kill of the instance whose last kill is earlier — its queue is the
// client the proxy leaves hanging, and it must end the connection with its
// own timeout (5 minutes, RFC 5321 §4.5.3.2), not by dying; those minutes
// run while the rest of the traffic flows.
func (r *run) planEvents() []*event {
	var evs []*event
	for _, target := range []string{"alpha", "alpha", "alpha", "beta", "beta", "beta",
		lab.DaemonClamd, lab.DaemonClamd, lab.DaemonSlapd, lab.DaemonSlapd} {
		evs = append(evs, &event{kind: kindKill, target: target})
	}
	for i := range 5 {
		evs = append(evs, &event{kind: kindReset, target: []string{"alpha", "beta"}[i%2]})
	}
	r.rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	last := map[string]int{}
	for i, e := range evs {
		if e.kind == kindKill {
			last[e.target] = i
		}
	}
	client, server := "alpha", "beta"
	if last["beta"] < last["alpha"] {
		client, server = "beta", "alpha"
	}
	at := last[client] + 1
	evs = append(evs[:at], append([]*event{{kind: kindHalfOpen, target: server}}, evs[at:]...)...)
	n := r.set.messages
	evs = append([]*event{{kind: kindFreeze, target: lab.DaemonSlapd, at: n * 5 / 100}}, evs...)
	respace(evs[1:], n*5/100, n)
	return evs
}

// respace sets the points of evs evenly after accepted, up to 90 % of n
// messages (at least one message apart).
func respace(evs []*event, accepted, n int) {
	last := max(n*90/100, accepted+len(evs))
	for i, e := range evs {
		e.at = accepted + (i+1)*(last-accepted)/len(evs)
	}
}
