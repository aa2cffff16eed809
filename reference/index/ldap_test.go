package index_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pecspec/pecspec/reference/index"
	"github.com/pecspec/pecspec/reference/lab"
	"github.com/pecspec/pecspec/reference/lab/labtest"
)

// silentServer accepts LDAP connections and never answers, as a frozen slapd
// does (the kernel completes the handshake for a stopped process).
func silentServer(t *testing.T) (url string, accepted *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = &atomic.Int64{}
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return "ldap://" + ln.Addr().String(), accepted
}

// TestLDAPSilentServer: lookups against a server that never answers end with
// ErrUnavailable within the deadline; concurrent lookups of one key share one
// search; nothing is cached from a failure.
func TestLDAPSilentServer(t *testing.T) {
	url, accepted := silentServer(t)
	d := index.NewLDAP(url, "", nil)
	d.Timeout = 300 * time.Millisecond
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := d.ByDomain(context.Background(), "pec.beta.test")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, index.ErrUnavailable) {
			t.Errorf("err = %v, want ErrUnavailable", err)
		}
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("8 lookups took %v against a silent server (deadline 300 ms)", took)
	}
	if n := accepted.Load(); n != 1 {
		t.Errorf("%d connections for one key looked up 8 times at once, want 1", n)
	}
	// The caller's own deadline is honoured too.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := d.ByCertHash(ctx, strings.Repeat("ab", 20)); !errors.Is(err, index.ErrUnavailable) {
		t.Errorf("ByCertHash with a 50 ms context: err = %v, want ErrUnavailable", err)
	}
	if err := d.Check(context.Background()); !errors.Is(err, index.ErrUnavailable) {
		t.Errorf("Check = %v, want ErrUnavailable", err)
	}
}

// TestLDAPFrozenSlapd: the real slapd stopped with SIGSTOP. Answers already
// cached keep being served (stale, past their TTL) while refreshes hang; a
// key never seen fails within the deadline; after SIGCONT lookups work again
// on a new connection.
func TestLDAPFrozenSlapd(t *testing.T) {
	if _, err := exec.LookPath("slapd"); err != nil {
		t.Fatal("slapd not installed (make setup)")
	}
	dir := t.TempDir()
	s, err := lab.StartSlapd(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	ps := providers(t)
	if err := index.Load(context.Background(), s.URL, s.BindDN, s.Password, ps...); err != nil {
		t.Fatal(err)
	}
	pid := slapdPid(t, dir)
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	d := index.NewLDAP(s.URL, "", nil)
	d.Timeout = 500 * time.Millisecond
	d.Now = func() time.Time { return time.Unix(0, now.Load()) }
	ctx := context.Background()
	if _, err := d.ByDomain(ctx, "pec.beta.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ByDomain(ctx, "example.org"); !errors.Is(err, index.ErrNotFound) {
		t.Fatalf("unknown domain: %v", err)
	}
	labtest.Freeze(t, pid)
	now.Add(int64(time.Hour)) // past the TTL: every answer is stale
	start := time.Now()
	for range 20 {
		if p, err := d.ByDomain(ctx, "PEC.BETA.TEST"); err != nil || p.Name != "Reference Beta" {
			t.Fatalf("cached answer while slapd is frozen: %+v, %v", p, err)
		}
		if _, err := d.ByDomain(ctx, "example.org"); !errors.Is(err, index.ErrNotFound) {
			t.Fatalf("cached not-found while slapd is frozen: %v", err)
		}
	}
	if took := time.Since(start); took > 400*time.Millisecond {
		t.Errorf("40 cached lookups took %v while a refresh hung", took)
	}
	start = time.Now()
	if _, err := d.ByDomain(ctx, "nuovo.test"); !errors.Is(err, index.ErrUnavailable) {
		t.Errorf("uncached lookup while frozen: err = %v, want ErrUnavailable", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("uncached lookup took %v (deadline 500 ms)", took)
	}
	if err := d.Check(ctx); err == nil {
		t.Error("Check passed while slapd is frozen")
	}
	now.Add(int64(48 * time.Hour)) // past MaxStale: no longer served
	if _, err := d.ByDomain(ctx, "pec.beta.test"); !errors.Is(err, index.ErrUnavailable) {
		t.Errorf("answer older than MaxStale: err = %v, want ErrUnavailable", err)
	}
	labtest.Thaw(t, pid)
	if _, err := d.ByDomain(ctx, "nuovo.test"); !errors.Is(err, index.ErrNotFound) {
		t.Errorf("after SIGCONT: err = %v, want ErrNotFound", err)
	}
	if p, err := d.ByDomain(ctx, "pec.beta.test"); err != nil || p.Name != "Reference Beta" {
		t.Errorf("after SIGCONT: %+v, %v", p, err)
	}
	if err := d.Check(ctx); err != nil {
		t.Errorf("Check after SIGCONT: %v", err)
	}
}

// slapdPid reads the pidfile slapd writes in its directory (the lab's own
// process; no other slapd on the machine is touched).
func slapdPid(t *testing.T, dir string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "slapd.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 {
		t.Fatalf("slapd.pid: %q", data)
	}
	return pid
}
