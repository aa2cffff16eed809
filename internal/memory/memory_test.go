package memory

import (
	"bytes"
	"runtime"
	"testing"
)

// TestReleaseLarge: the storage of a large buffer is dropped and its pages
// go back to the system; a small buffer is only dropped.
func TestReleaseLarge(t *testing.T) {
	var buf bytes.Buffer
	buf.Grow(64 << 20)
	buf.Write(make([]byte, 64<<20))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	Release(&buf)
	runtime.ReadMemStats(&after)
	if buf.Cap() != 0 {
		t.Fatalf("buffer keeps %d bytes", buf.Cap())
	}
	if after.NumForcedGC != before.NumForcedGC+1 {
		t.Errorf("forced collections %d → %d, want one more", before.NumForcedGC, after.NumForcedGC)
	}
	if after.HeapReleased < before.HeapReleased+32<<20 {
		t.Errorf("released to the system %d → %d bytes, want the buffer's 64 MiB back", before.HeapReleased, after.HeapReleased)
	}
	small := bytes.NewBufferString("ciao")
	runtime.ReadMemStats(&before)
	Release(small)
	runtime.ReadMemStats(&after)
	if small.Len() != 0 || after.NumForcedGC != before.NumForcedGC {
		t.Errorf("small buffer: len %d, forced collections %d → %d", small.Len(), before.NumForcedGC, after.NumForcedGC)
	}
}
