package chaos

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/reference/lab"
)

// liveness tells the clients whether an instance is being killed and
// restarted, and how many times it was (its epoch).
type liveness struct {
	mu    sync.Mutex
	epoch int
	up    chan struct{} // closed while the instance runs
}

func newLiveness() *liveness {
	up := make(chan struct{})
	close(up)
	return &liveness{up: up}
}

// down is called before the instance is killed.
func (v *liveness) down() {
	v.mu.Lock()
	v.epoch++
	v.up = make(chan struct{})
	v.mu.Unlock()
}

// back is called once the restarted instance is healthy.
func (v *liveness) back() {
	v.mu.Lock()
	close(v.up)
	v.mu.Unlock()
}

func (v *liveness) state() (int, <-chan struct{}) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.epoch, v.up
}

// waitUp waits until up is closed, or deadline.
func waitUp(up <-chan struct{}, deadline time.Time) bool {
	select {
	case <-up:
		return true
	case <-time.After(time.Until(deadline)):
		return false
	}
}

// settleWindow is how long a submission whose connection ended without a
// reply may still be committing in a live instance: the access point's
// 20 s budget, then the commit.
const settleWindow = 30 * time.Second

// acceptedAfterLoss says whether the attempt of m whose connection ended
// without a reply was accepted. When the instance was killed meanwhile (its
// epoch moved), the old process can write nothing more: once the new one
// runs, the sender's mailbox is the answer. Otherwise the instance may still
// be committing it: its notice is waited for up to settleWindow.
func (c *client) acceptedAfterLoss(m *message, lv *liveness, epoch int, deadline time.Time) bool {
	until := time.Now().Add(settleWindow)
	for {
		e, up := lv.state()
		if !waitUp(up, deadline) {
			return false
		}
		if answered(m) {
			return true
		}
		if e != epoch || time.Now().After(until) {
			return false
		}
		time.Sleep(retryPause) // polling the mailbox of a live instance
	}
}

// answered reports whether the sender's mailbox holds an accettazione or an
// avviso di non accettazione about m (RFC 6109 §3.1.2–4).
func answered(m *message) bool {
	for _, raw := range mailboxFiles(m.sender, m.from.Address, []byte(m.id)) {
		msg := pec.Parse(raw)
		if k := msg.Kind(); (k == pec.KindAccettazione || k == pec.KindNonAccettazione) &&
			strings.TrimSpace(msg.Header(pec.HeaderRiferimentoMsgID)) == m.id {
			return true
		}
	}
	return false
}

// mailDir is the Maildir of addr at in, which Dovecot serves.
func mailDir(in *lab.Instance, addr string) string {
	return filepath.Join(in.Dir, "data", "mail", strings.ToLower(addr))
}

// mailboxFiles reads the messages of addr's Maildir (new and cur) that
// contain every one of needles.
func mailboxFiles(in *lab.Instance, addr string, needles ...[]byte) [][]byte {
	var out [][]byte
	dir := mailDir(in, addr)
	for _, sub := range []string{"new", "cur"} {
		es, _ := os.ReadDir(filepath.Join(dir, sub))
	next:
		for _, e := range es {
			raw, err := os.ReadFile(filepath.Join(dir, sub, e.Name()))
			if err != nil {
				continue // moved from new to cur meanwhile: read again next time
			}
			for _, n := range needles {
				if !bytes.Contains(raw, n) {
					continue next
				}
			}
			out = append(out, raw)
		}
	}
	return out
}

// mailCount is how many messages addr's Maildir holds.
func mailCount(in *lab.Instance, addr string) int {
	n := 0
	for _, sub := range []string{"new", "cur"} {
		es, _ := os.ReadDir(filepath.Join(mailDir(in, addr), sub))
		n += len(es)
	}
	return n
}
