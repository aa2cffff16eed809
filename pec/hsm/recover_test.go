package hsm_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pecspec/pecspec/pec/hsm"
)

// signingToken opens a token with a fresh key; log collects its log lines.
func signingToken(t *testing.T) (*hsm.Token, *hsm.Signer, hsm.Config, *syncBuffer) {
	t.Helper()
	cfg := newToken(t, "recover")
	log := &syncBuffer{}
	cfg.Log = slog.New(slog.NewTextHandler(log, nil))
	tok, err := hsm.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tok.Close() })
	key, err := tok.GenerateRSAKey("k", 2048)
	if err != nil {
		t.Fatal(err)
	}
	return tok, key, cfg, log
}

func sign(k crypto.Signer) error {
	d := sha256.Sum256([]byte("x"))
	_, err := k.Sign(rand.Reader, d[:], crypto.SHA256)
	return err
}

// TestTokenDirectoryAwayAndBack: SoftHSM2's token directory moved away and
// back, as a token pulled out and put in again. While it is away every
// signature fails at once with ErrUnavailable; once it is back the same
// Signer signs again, without reopening anything by hand (issue 15).
func TestTokenDirectoryAwayAndBack(t *testing.T) {
	tok, key, cfg, log := signingToken(t)
	if err := sign(key); err != nil {
		t.Fatal(err)
	}
	tokens := filepath.Join(filepath.Dir(cfg.SoftHSMConf), "tokens")
	if err := os.Rename(tokens, tokens+".away"); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		start := time.Now()
		if err := sign(key); !errors.Is(err, hsm.ErrUnavailable) {
			t.Fatalf("signature %d with the token away: err = %v, want ErrUnavailable", i, err)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("signature %d with the token away took %v", i, took)
		}
	}
	if err := tok.Check(); err == nil {
		t.Error("Check passed with the token away")
	}
	if err := os.Rename(tokens+".away", tokens); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	for err := sign(key); err != nil; err = sign(key) {
		if !errors.Is(err, hsm.ErrUnavailable) || time.Since(back) > 5*time.Second {
			t.Fatalf("token back for %v: %v", time.Since(back), err)
		}
		time.Sleep(10 * time.Millisecond) // polling the token; recoveries are spaced by hsm.RetryEvery of real time
	}
	t.Logf("signing again %v after the token came back", time.Since(back).Round(time.Millisecond))
	if err := tok.Check(); err != nil {
		t.Errorf("Check after recovery: %v", err)
	}
	for _, want := range []string{"token lost; recovering", "token recovery failed", "token recovered"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("no log line %q:\n%s", want, log)
		}
	}
}

// TestSessionsClosedUnderneath: C_CloseAllSessions behind the Token's back;
// signatures from several goroutines go on, recovered transparently.
func TestSessionsClosedUnderneath(t *testing.T) {
	tok, key, _, log := signingToken(t)
	if err := hsm.CloseAllSessions(tok); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- sign(key)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("signature after the sessions were closed: %v", err)
		}
	}
	if n := strings.Count(log.String(), "token recovered"); n != 1 {
		t.Errorf("%d recoveries for one loss, want 1:\n%s", n, log)
	}
}

// TestWrongRequestNotRecovered: an error of the request itself is not a lost
// token: no recovery is tried.
func TestWrongRequestNotRecovered(t *testing.T) {
	tok, _, _, log := signingToken(t)
	if _, err := tok.Signer("missing"); !errors.Is(err, hsm.ErrNotFound) {
		t.Errorf("Signer(missing) = %v, want ErrNotFound", err)
	}
	if strings.Contains(log.String(), "recover") {
		t.Errorf("a missing key started a recovery:\n%s", log)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
