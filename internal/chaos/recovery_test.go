package chaos

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// attempt is one submission attempt of the clients.
type attempt struct {
	inst       string
	start, end time.Time
	outcome    string
	err        string // for outLost
}

// attemptLog keeps every attempt, for the recovery times and the figures.
type attemptLog struct {
	mu   sync.Mutex
	list []attempt
}

func (l *attemptLog) add(a attempt) {
	l.mu.Lock()
	l.list = append(l.list, a)
	l.mu.Unlock()
}

func (l *attemptLog) all() []attempt {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.list)
}

// firstOK is when the first attempt at one of insts that started at or
// after t ended accepted.
func (l *attemptLog) firstOK(insts []string, t time.Time) (time.Time, bool) {
	var first time.Time
	for _, a := range l.all() {
		if a.outcome == outOK && !a.start.Before(t) && slices.Contains(insts, a.inst) &&
			(first.IsZero() || a.end.Before(first)) {
			first = a.end
		}
	}
	return first, !first.IsZero()
}

// waitAccepted waits until the clients have had n messages accepted.
func (r *run) waitAccepted(c *client, n int) bool {
	deadline := time.Now().Add(reachWithin)
	for c.accepted.Load() < int64(n) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond) // polling the clients' count
	}
	return true
}

// waitFirstOK is how long after t the first submission started after t to
// one of insts was accepted; 0 when none was within recoverWithin (the
// clients may have had nothing left to send). Clients held at the gate are
// let through one message at a time meanwhile.
func (r *run) waitFirstOK(c *client, insts []string, t time.Time) time.Duration {
	deadline := time.Now().Add(recoverWithin)
	for time.Now().Before(deadline) {
		if s := c.started.Load(); s >= c.gate.Load() {
			c.gate.Store(s + 1)
		}
		if at, ok := r.log.firstOK(insts, t); ok {
			return at.Sub(t)
		}
		if c.accepted.Load() == int64(len(r.msgs)) {
			return 0
		}
		time.Sleep(10 * time.Millisecond) // polling the clients' log
	}
	r.t.Errorf("no submission to %v accepted within %v of the fault at %s", insts, recoverWithin, t.Format(time.TimeOnly))
	return 0
}

// waitHealthy is how long after t every one of insts answered /health
// with 200 (all its dependencies ok).
func (r *run) waitHealthy(insts []string, t time.Time) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), recoverWithin)
	defer cancel()
	for _, name := range insts {
		url := "http://127.0.0.1:" + strconv.Itoa(r.l.Provider(name).Ports.Admin) + "/health"
		for !healthOK(ctx, url) {
			if ctx.Err() != nil {
				r.t.Errorf("%s /health not ok within %v after the fault at %s", name, recoverWithin, t.Format(time.TimeOnly))
				return 0
			}
			time.Sleep(10 * time.Millisecond) // polling the instance
		}
	}
	return time.Since(t)
}

func healthOK(ctx context.Context, url string) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
