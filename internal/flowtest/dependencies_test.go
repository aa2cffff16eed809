package flowtest

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/reference/lab"
	"github.com/pecspec/pecspec/reference/lab/labtest"
)

// replyBound is the longest a client may wait for the reply to its DATA
// while a dependency is gone (issue 15: "reply within 10 s").
const replyBound = 10 * time.Second

// temporary reports whether err is the server's 4xx reply.
func temporary(err error) bool {
	var se *smtp.SMTPError
	return errors.As(err, &se) && se.Code >= 400 && se.Code < 500
}

// tokenAway: alpha's SoftHSM2 token directory is moved away (the token pulled
// out): submissions get 4xx within seconds and /health names the token; once
// it is back alpha signs again, without a restart, and nothing was accepted
// for the refused submission (issue 15).
func tokenAway(t *testing.T, h *harness) {
	a, _, alice, _, _, bBob := names(h.l)
	tokens := filepath.Join(filepath.Dir(a.SoftHSMConf), "tokens")
	if err := os.Rename(tokens, tokens+".away"); err != nil {
		t.Fatal(err)
	}
	restore := func() { _ = os.Rename(tokens+".away", tokens) }
	t.Cleanup(restore)
	refused, raw := original(alice.Address, []string{bBob.Address}, nil, "Token assente")
	start := time.Now()
	err := h.submit(t, a, alice, []string{bBob.Address}, raw)
	if took := time.Since(start); !temporary(err) || took > replyBound {
		t.Errorf("submission with the token away: %v after %v, want 4xx within %v", err, took, replyBound)
	}
	if code, body := h.health(t, a.Ports.Admin); code != http.StatusServiceUnavailable || !strings.Contains(body, `"failing":["token"]`) {
		t.Errorf("/health with the token away: %d %s", code, body)
	}
	restore()
	back := time.Now()
	id := h.submitUntilAccepted(t, a, alice, bBob.Address, "Token tornato")
	t.Logf("token away: 4xx in %v; signing again %v after the token came back", time.Since(start).Round(time.Millisecond)-time.Since(back).Round(time.Millisecond), time.Since(back).Round(time.Millisecond))
	h.judge(t, h.wait(t, a, alice, "accettazione after the token came back", refersTo(pec.KindAccettazione, id)))
	if code, body := h.health(t, a.Ports.Admin); code != http.StatusOK {
		t.Errorf("/health with the token back: %d %s", code, body)
	}
	if got := h.all(t, a, alice, refused); len(got) != 0 {
		t.Errorf("%d messages about the submission refused while the token was away", len(got))
	}
}

// submitUntilAccepted submits a new message to rcpt until one is accepted
// (the 4xx of a dependency that is coming back are expected), within 20 s,
// and returns its Message-ID.
func (h *harness) submitUntilAccepted(t *testing.T, in *lab.Instance, from lab.Account, rcpt, subject string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		id, raw := original(from.Address, []string{rcpt}, nil, subject)
		err := h.submit(t, in, from, []string{rcpt}, raw)
		if err == nil {
			return id
		}
		if !temporary(err) || time.Now().After(deadline) {
			t.Fatalf("submission: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // polling the instance, not waiting for a clock
	}
}

// frozenSlapd: the lab's slapd stopped with SIGSTOP (its own pid, from its
// pidfile). Submissions that need the index get 4xx within 10 s, several at
// once; one whose recipient's domain alpha has cached is accepted; /health
// names the index. After SIGCONT alpha accepts again, and none of the refused
// submissions is ever accepted late (issue 15).
func frozenSlapd(t *testing.T, h *harness) {
	a, _, alice, _, _, bBob := names(h.l)
	h.submitUntilAccepted(t, a, alice, bBob.Address, "Prima del congelamento") // beta's domain now cached
	pid := slapdPid(t, h.l)
	labtest.Freeze(t, pid)
	thaw := func() { labtest.Thaw(t, pid) }
	var wg sync.WaitGroup
	refused := make([]string, 4)
	for i := range refused {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rcpt := "utente@nuovo-" + strconv.Itoa(i) + ".test"
			id, raw := original(alice.Address, []string{rcpt}, nil, "Indice congelato")
			refused[i] = id
			start := time.Now()
			err := h.submit(t, a, alice, []string{rcpt}, raw)
			took := time.Since(start)
			if !temporary(err) || took > replyBound {
				t.Errorf("%s with slapd frozen: %v after %v, want 4xx within %v", rcpt, err, took, replyBound)
			}
			t.Logf("%s with slapd frozen: %v after %v", rcpt, err, took.Round(time.Millisecond))
		}()
	}
	wg.Wait()
	cached, raw := original(alice.Address, []string{bBob.Address}, nil, "Indice congelato, dominio noto")
	if err := h.submit(t, a, alice, []string{bBob.Address}, raw); err != nil {
		t.Errorf("submission to a domain alpha has cached, slapd frozen: %v", err)
	}
	if code, body := h.health(t, a.Ports.Admin); code != http.StatusServiceUnavailable || !strings.Contains(body, `"failing":["index"]`) {
		t.Errorf("/health with slapd frozen: %d %s", code, body)
	}
	thaw()
	id := h.submitUntilAccepted(t, a, alice, "utente@nuovo-0.test", "Indice scongelato")
	h.wait(t, a, alice, "accettazione after SIGCONT", refersTo(pec.KindAccettazione, id))
	h.wait(t, a, alice, "accettazione of the cached domain's", refersTo(pec.KindAccettazione, cached))
	for _, id := range refused {
		if got := h.all(t, a, alice, id); len(got) != 0 {
			t.Errorf("%s was refused with 4xx, yet %d messages about it exist after SIGCONT", id, len(got))
		}
	}
}

// slapdPid is the lab's slapd, from the pidfile it writes in its directory:
// no other slapd on the machine is touched.
func slapdPid(t *testing.T, l *lab.Lab) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(l.Dir, "slapd", "slapd.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 {
		t.Fatalf("slapd.pid: %q", data)
	}
	return pid
}
