package chaos

import (
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pecspec/pecspec/reference/lab"
)

// The settling's bounds.
const (
	settleWithin = 10 * time.Minute // after the last submission: the half-open sender's 5 minutes fit
	stallAfter   = 5 * time.Second  // nothing arrived for this long: advance the clocks
)

// box is a mailbox the run fills.
type box struct {
	in   *lab.Instance
	addr string
}

// other is the instance that is not in.
func (r *run) other(in *lab.Instance) *lab.Instance {
	if in.Name == "alpha" {
		return r.l.Provider("beta")
	}
	return r.l.Provider("alpha")
}

// expected is how many messages each mailbox holds once everything
// arrived: the sender one accettazione, and per recipient an avvenuta
// consegna or (the full mailbox) an avviso di mancata consegna; its
// provider's receipts mailbox one presa in carico (RFC 6109 §3.2.1: one per
// envelope a provider takes in charge, the recipients all at beta or all at
// alpha); each recipient but the full mailbox one busta di trasporto.
func (r *run) expected() map[box]int {
	want := map[box]int{}
	for _, m := range r.msgs {
		want[box{m.sender, m.from.Address}] += 1 + len(m.rcpts)
		want[box{m.sender, m.sender.Receipts.Address}]++
		for _, rc := range m.rcpts {
			if rc != m.full {
				want[box{r.other(m.sender), rc}]++
			}
		}
	}
	return want
}

// settle waits until every mailbox holds at least what it must and both
// queues are empty. A queue retry the faults pushed into the future (the
// backoff runs on the instances' clocks: 1 s, 5 s, 30 s, 2 min, …) is
// brought forward by advancing both clocks a minute whenever nothing
// arrived for stallAfter — the 12 h and 24 h timers stay far away. It
// returns how long it took and how many minutes the clocks were advanced.
func (r *run) settle() (time.Duration, int) {
	start := time.Now()
	want := r.expected()
	last, lastChange, advanced := -1, time.Now(), 0
	for {
		total, missing := 0, 0
		for b, n := range want {
			got := mailCount(b.in, b.addr)
			total += got
			missing += max(n-got, 0)
		}
		queued := r.queued()
		if missing == 0 && queued == 0 {
			return time.Since(start), advanced
		}
		if time.Since(start) > settleWithin {
			r.t.Errorf("not settled within %v of the last submission: %d messages missing, %d queue items left",
				settleWithin, missing, queued)
			return time.Since(start), advanced
		}
		if total != last {
			last, lastChange = total, time.Now()
		}
		if time.Since(lastChange) > stallAfter {
			r.advance(time.Minute)
			advanced++
			lastChange = time.Now()
		}
		time.Sleep(100 * time.Millisecond) // polling the Maildirs and queues
	}
}

// queued counts both instances' queue items.
func (r *run) queued() int {
	n := 0
	for _, in := range r.l.Providers {
		q, _ := filepath.Glob(filepath.Join(in.Dir, "data", "queue", "*.msg"))
		n += len(q)
	}
	return n
}

// advance moves both instances' clocks by d through the admin API.
func (r *run) advance(d time.Duration) {
	for _, in := range r.l.Providers {
		url := "http://127.0.0.1:" + strconv.Itoa(in.Ports.Admin) + "/clock/advance?by=" + d.String()
		req, _ := http.NewRequest(http.MethodPost, url, nil)
		req.Header.Set("Authorization", "Bearer "+in.AdminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			r.t.Errorf("advance %s's clock: %v", in.Name, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			r.t.Errorf("advance %s's clock: %s", in.Name, resp.Status)
		}
	}
}
