package flowtest

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pecspec/pecspec/pec/hsm"
	"github.com/pecspec/pecspec/reference/lab"
	"github.com/pecspec/pecspec/reference/lab/labtest"
)

// benchOnly skips t unless make bench runs it.
func benchOnly(t *testing.T) *testing.T {
	if os.Getenv("PECSPEC_BENCH") == "" {
		t.Skip("a measurement: make bench runs it (PECSPEC_BENCH=1)")
	}
	return t
}

// benchMessages is how many certified messages BenchmarkCertified pushes
// (PECSPEC_BENCH_MESSAGES overrides).
func benchMessages() int {
	if n, err := strconv.Atoi(os.Getenv("PECSPEC_BENCH_MESSAGES")); err == nil && n > 0 {
		return n
	}
	return 2000
}

// TestBenchCertified pushes a few thousand certified messages alice@alpha →
// bob@beta (each: accettazione and envelope signed by alpha, presa in carico
// and consegna by beta, all stored durably) and sets the rate against the
// signatures per second both tokens reach in the same run: ratio = messages/s
// × 4 ÷ signatures/s (issue "every PEC flow": target ≥ 0.5, signing should be
// the limit, not parsing, copying or fsync).
//
// It is a test that runs only under make bench (PECSPEC_BENCH=1): one run is
// the measurement, which the benchmark framework's repeated calls would not give.
func TestBenchCertified(t *testing.T) {
	b := benchOnly(t)
	h := newHarness(b)
	a, beta, alice, _, _, bBob := names(h.l)
	sigs := tokenRate(b, 3*time.Second, a)
	procs := map[string]int{"alpha": a.Pid(), "beta": beta.Pid(), "clamd": h.l.ClamdPid(), "clients": os.Getpid()}
	cpu0 := cpuTimes(b, procs)

	n := benchMessages()
	boxes := map[string]string{"alice": mailDir(a, alice.Address), "receipts": mailDir(a, a.Receipts.Address),
		"bob": mailDir(beta, bBob.Address)}
	want := map[string]int{"alice": 2 * n, "receipts": n, "bob": n}
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)); i <= n; i = int(next.Add(1)) {
				_, raw := original(alice.Address, []string{bBob.Address}, nil, fmt.Sprintf("Bench %05d", i))
				if err := h.submit(b, a, alice, []string{bBob.Address}, raw); err != nil {
					b.Errorf("submission %d: %v", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	submitted := time.Since(start)
	h.settle(b, boxes, want, a, beta)
	elapsed := time.Since(start)
	rate := float64(n) / elapsed.Seconds()
	ratio := rate * 4 / sigs
	fmt.Printf("certified: %d messages in %v (submitted in %v): %.1f messages/s; tokens: %.0f signatures/s; "+
		"ratio messages/s × 4 ÷ signatures/s = %.2f (target ≥ 0.5)\n", n, elapsed.Round(time.Millisecond),
		submitted.Round(time.Millisecond), rate, sigs, ratio)
	cpuReport(b, n, sigs, cpu0, cpuTimes(b, procs))
}

// tokenRate is how many RSA signatures per second in's token gives with as
// many sessions as pecref opens (2), one per core. A process loads one SoftHSM
// configuration, so one token is measured: beta's is the same kind of key on
// the same two cores, which the pair shares while the messages flow.
func tokenRate(b testing.TB, d time.Duration, in *lab.Instance) float64 {
	tok, err := hsm.Open(hsm.Config{SoftHSMConf: in.SoftHSMConf, TokenLabel: in.TokenLabel, PIN: in.PIN, Sessions: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer tok.Close()
	key, err := tok.Signer(lab.KeyLabel)
	if err != nil {
		b.Fatal(err)
	}
	var total atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			digest := sha256.Sum256([]byte(in.Name))
			for time.Now().Before(deadline) {
				if _, err := key.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
					b.Error(err)
					return
				}
				total.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(total.Load()) / d.Seconds()
}

// TestBenchLimits sends the largest messages providers advertise — one of
// 50 MB, one to 500 recipients — and reports each instance's peak resident
// memory (VmHWM) afterwards, each case on a fresh lab.
func TestBenchLimits(t *testing.T) {
	benchOnly(t)
	t.Run("50MB", func(b *testing.T) {
		h := harnessOn(b, labtest.UpWith(b, lab.Options{MaxTotalBytes: 64 << 20}))
		a, beta, alice, _, _, bBob := names(h.l)
		raw := bigMessage(alice.Address, bBob.Address, 50<<20)
		start := time.Now()
		if err := h.submit(b, a, alice, []string{bBob.Address}, raw); err != nil {
			b.Fatal(err)
		}
		h.settle(b, map[string]string{"alice": mailDir(a, alice.Address), "bob": mailDir(beta, bBob.Address)},
			map[string]int{"alice": 2, "bob": 1}, a, beta)
		peaks(b, fmt.Sprintf("50 MB message (%d bytes) delivered in %v", len(raw), time.Since(start).Round(time.Millisecond)), a, beta)
	})
	t.Run("16x70MB", func(b *testing.T) {
		h := newHarness(b)
		a, _, alice, _, _, _ := names(h.l)
		fmt.Println(refusedTransfers(b, a, alice.Address, 16, 70<<20))
	})
	t.Run("500rcpt", func(b *testing.T) {
		h := newHarness(b)
		a, beta, alice, _, _, bBob := names(h.l)
		rcpt := []string{bBob.Address}
		for i := 1; len(rcpt) < 500; i++ {
			rcpt = append(rcpt, fmt.Sprintf("utente%03d@%s", i, beta.Domain))
		}
		_, raw := original(alice.Address, rcpt, nil, "Cinquecento destinatari")
		// Fold the 500-address To: field (RFC 5322 §2.2.3: lines stay under 998).
		raw = bytes.Replace(raw, []byte(strings.Join(rcpt, ", ")), []byte(strings.Join(rcpt, ",\r\n ")), 1)
		start := time.Now()
		if err := h.submit(b, a, alice, rcpt, raw); err != nil {
			b.Fatal(err)
		}
		// One accettazione, then per recipient one consegna or mancata consegna.
		h.settle(b, map[string]string{"alice": mailDir(a, alice.Address)}, map[string]int{"alice": 501}, a, beta)
		peaks(b, fmt.Sprintf("500-recipient message: 501 receipts in %v", time.Since(start).Round(time.Millisecond)), a, beta)
	})
}

// bigMessage is a message with a base64 attachment making it size bytes.
func bigMessage(from, to string, size int) []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "From: %s\r\nTo: %s\r\nSubject: Allegato grande\r\nMessage-ID: <big.%d@pec.alpha.test>\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"+
		"In allegato.\r\n--b\r\nContent-Type: application/octet-stream; name=dati.bin\r\n"+
		"Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=dati.bin\r\n\r\n",
		from, to, time.Now().UnixNano())
	chunk := make([]byte, 57)
	for buf.Len() < size-64 {
		rand.Read(chunk)
		buf.WriteString(base64.StdEncoding.EncodeToString(chunk))
		buf.WriteString("\r\n")
	}
	buf.WriteString("--b--\r\n")
	return buf.Bytes()
}

// peaks prints what happened and each instance's peak RSS.
func peaks(b testing.TB, what string, ins ...*lab.Instance) {
	var parts []string
	for _, in := range ins {
		kb := vmHWM(b, in.Pid())
		parts = append(parts, fmt.Sprintf("%s peak RSS %d MiB", in.Name, kb/1024))
	}
	fmt.Printf("%s; %s\n", what, strings.Join(parts, ", "))
}

// vmHWM reads a process's peak resident set size in KiB.
func vmHWM(b testing.TB, pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb
		}
	}
	b.Fatal("no VmHWM")
	return 0
}
