package antivirus_test

import (
	"bytes"
	"context"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pecspec/pecspec/reference/antivirus"
)

// TestScanDeadline: a scanner that never answers (a frozen clamd) costs a
// small message ScanDeadline, not the caller's whole budget.
func TestScanDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		frozen := antivirus.Func(func(ctx context.Context, _ io.Reader) (antivirus.Result, error) {
			<-ctx.Done()
			return antivirus.Result{}, ctx.Err()
		})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		msg := []byte("Subject: x\r\n\r\nciao\r\n")
		start := time.Now()
		if _, err := antivirus.ScanMessage(ctx, frozen, bytes.NewReader(msg), int64(len(msg)), 4); err == nil {
			t.Fatal("a scanner that never answered gave a verdict")
		}
		if took, want := time.Since(start), antivirus.ScanDeadline(int64(len(msg))); took != want || want > 6*time.Second {
			t.Errorf("gave up after %v, want %v (a few seconds)", took, want)
		}
	})
	// a 64 MiB message keeps time for its scan (about 6 s for 50 MB here),
	// and this deadline, not clamd's MaxScanTime (60 s in the lab), ends a
	// slow one: a temporary failure, not a Heuristics.Limits alert
	if d := antivirus.ScanDeadline(64 << 20); d < 15*time.Second || d >= 60*time.Second {
		t.Errorf("a 64 MiB message may take %v: want between 15 s and clamd's MaxScanTime", d)
	}
}
