package flowtest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/reference/lab"
	"github.com/pecspec/pecspec/reference/txlog"
)

// crashMessages is how many certified messages flow while beta is killed.
const crashMessages = 200

// TestCrash: while alice@alpha sends 200 certified messages to bob@beta, beta
// is killed with SIGKILL and restarted. Every message must end with exactly
// one envelope in bob's mailbox, one presa in carico in alpha's receipts
// mailbox, one accettazione and one avvenuta consegna for alice — nothing
// lost, nothing duplicated — and both registri must verify with one record
// per event (DESIGN.md rule 5; package once).
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the lab")
	}
	h := newHarness(t)
	a, b, alice, _, _, bBob := names(h.l)
	var sent atomic.Int64
	ids := make(chan string, crashMessages)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < crashMessages; i += 4 {
				id, raw := original(alice.Address, []string{bBob.Address}, nil, fmt.Sprintf("Crash %03d", i))
				if err := h.submit(t, a, alice, []string{bBob.Address}, raw); err != nil {
					t.Errorf("submission %d: %v", i, err)
					return
				}
				ids <- id
				sent.Add(1)
			}
		}()
	}
	bobBox := mailDir(b, bBob.Address)
	deadline := time.Now().Add(60 * time.Second)
	for count(t, bobBox) < crashMessages/5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling the disk for the moment to kill, not waiting for time to pass
	}
	h.l.Kill(b)
	t.Logf("beta killed after %d submissions, %d envelopes delivered", sent.Load(), count(t, bobBox))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.l.Restart(ctx, b); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(ids)
	if t.Failed() {
		t.FailNow()
	}
	boxes := map[string]string{"alice": mailDir(a, alice.Address), "receipts": mailDir(a, a.Receipts.Address), "bob": bobBox}
	want := map[string]int{"alice": 2 * crashMessages, "receipts": crashMessages, "bob": crashMessages}
	h.settle(t, boxes, want, a, b)

	got := map[string]map[pec.Kind]int{}
	for _, dir := range boxes {
		for _, raw := range readAll(t, dir) {
			m := pec.Parse(raw)
			key := strings.TrimSpace(m.Header(pec.HeaderRiferimentoMsgID))
			if m.Kind() == pec.KindTrasporto && m.Original != nil {
				key = strings.TrimSpace(pec.Parse(m.Original.Body).Header(pec.HeaderRiferimentoMsgID))
			}
			if got[key] == nil {
				got[key] = map[pec.Kind]int{}
			}
			got[key][m.Kind()]++
		}
	}
	for id := range ids {
		for _, k := range []pec.Kind{pec.KindAccettazione, pec.KindPresaInCarico, pec.KindAvvenutaConsegna, pec.KindTrasporto} {
			if n := got[id][k]; n != 1 {
				t.Errorf("%s: %d × %s, want exactly 1", id, n, k)
			}
		}
		delete(got, id)
	}
	for id, kinds := range got {
		t.Errorf("messages about an unknown original %q: %v", id, kinds)
	}
	for _, in := range []*lab.Instance{a, b} {
		events := map[txlog.Event]int{}
		dir := filepath.Join(in.Dir, "data", "registro")
		if _, err := txlog.Verify(dir); err != nil {
			t.Errorf("%s registro after the crash: %v", in.Name, err)
		}
		_ = txlog.Scan(dir, func(r *txlog.Record) error { events[r.Event]++; return nil })
		t.Logf("%s registro: %v", in.Name, events)
		if in == b && (events[txlog.EventPresaInCarico] != crashMessages || events[txlog.EventConsegna] != crashMessages) {
			t.Errorf("beta registro: %d presa in carico and %d consegna records, want %d each",
				events[txlog.EventPresaInCarico], events[txlog.EventConsegna], crashMessages)
		}
	}
}

// settle waits until every mailbox holds at least its expected count and both
// queues are empty. Retries that the crash pushed into the future are brought
// forward by advancing the instances' clocks a minute at a time (the timers
// are 12 h away), never by sleeping through backoffs.
func (h *harness) settle(t testing.TB, boxes map[string]string, want map[string]int, ins ...*lab.Instance) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	lastProgress, last := time.Now(), -1
	for time.Now().Before(deadline) {
		total, done := 0, true
		for name, dir := range boxes {
			n := count(t, dir)
			total += n
			done = done && n >= want[name]
		}
		for _, in := range ins {
			q, _ := filepath.Glob(filepath.Join(in.Dir, "data", "queue", "*.msg"))
			done = done && len(q) == 0
		}
		if done {
			return
		}
		if total != last {
			last, lastProgress = total, time.Now()
		}
		if time.Since(lastProgress) > time.Second {
			for _, in := range ins {
				h.admin(t, in, http.MethodPost, "/clock/advance?by=1m", "")
			}
			lastProgress = time.Now()
		}
		time.Sleep(20 * time.Millisecond) // polling the disk
	}
	for name, dir := range boxes {
		t.Errorf("%s: %d messages, want %d", name, count(t, dir), want[name])
	}
	t.FailNow()
}

func mailDir(in *lab.Instance, addr string) string {
	return filepath.Join(in.Dir, "data", "mail", strings.ToLower(addr))
}

func count(t testing.TB, dir string) int {
	n := 0
	for _, sub := range []string{"new", "cur"} {
		es, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		n += len(es)
	}
	return n
}

func readAll(t testing.TB, dir string) [][]byte {
	var out [][]byte
	for _, sub := range []string{"new", "cur"} {
		es, _ := os.ReadDir(filepath.Join(dir, sub))
		for _, e := range es {
			raw, err := os.ReadFile(filepath.Join(dir, sub, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, raw)
		}
	}
	return out
}
