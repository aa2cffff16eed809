package chaos

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pecspec/pecspec/reference/txlog"
)

// registro is one instance's transaction log after the run.
type registro struct {
	name   string
	verify string // pecspec log verify's output
	ok     bool   // its exit code was 0
	events map[txlog.Event]int
	want   map[txlog.Event]int // the events the messages must have made
}

// registri runs `pecspec log verify` on both instances' registri (RFC 6109
// §2.3: the chain intact after every kill) and counts their events against
// what the messages must have made: at the sender one accettazione per
// message; at the recipients' provider one presa in carico per message, one
// consegna per recipient delivered and one mancata consegna per full
// mailbox.
func (r *run) registri() []*registro {
	bin := pecspec(r.t)
	var out []*registro
	for _, in := range r.l.Providers {
		dir := filepath.Join(in.Dir, "data", "registro")
		g := &registro{name: in.Name, events: map[txlog.Event]int{}, want: map[txlog.Event]int{}}
		res, err := exec.Command(bin, "log", "verify", dir).CombinedOutput()
		g.verify, g.ok = strings.TrimSpace(string(res)), err == nil
		if err := txlog.Scan(dir, func(rec *txlog.Record) error { g.events[rec.Event]++; return nil }); err != nil {
			r.t.Errorf("%s registro: %v", in.Name, err)
		}
		for _, m := range r.msgs {
			if !m.accepted {
				continue
			}
			if m.sender == in {
				g.want[txlog.EventAccettazione]++
				continue
			}
			g.want[txlog.EventPresaInCarico]++
			for _, rc := range m.rcpts {
				if rc == m.full {
					g.want[txlog.EventMancataConsegna]++
				} else {
					g.want[txlog.EventConsegna]++
				}
			}
		}
		out = append(out, g)
	}
	return out
}

// mismatches lists the expected events the registro does not hold as many
// times as it must.
func (g *registro) mismatches() []string {
	var out []string
	for _, ev := range []txlog.Event{txlog.EventAccettazione, txlog.EventPresaInCarico, txlog.EventConsegna,
		txlog.EventMancataConsegna} {
		if g.events[ev] != g.want[ev] {
			out = append(out, fmt.Sprintf("%s: %d %s records, want %d", g.name, g.events[ev], ev, g.want[ev]))
		}
	}
	return out
}

// pecspec builds the pecspec binary of this tree into a temporary
// directory (the go build cache makes it quick after make build).
func pecspec(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "pecspec")
	cmd := exec.Command("go", "build", "-o", p, "github.com/pecspec/pecspec/cmd/pecspec")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build pecspec: %v\n%s", err, out)
	}
	return p
}
