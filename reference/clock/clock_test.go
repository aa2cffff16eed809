package clock

import (
	"testing"
	"time"
)

func TestOffsetAdvance(t *testing.T) {
	var o Offset
	sub := o.Subscribe()
	before := o.Now()
	if got := o.Advance(12 * time.Hour); got != 12*time.Hour {
		t.Fatalf("Advance = %v, want 12h", got)
	}
	if d := o.Now().Sub(before); d < 12*time.Hour {
		t.Errorf("Now moved %v, want >= 12h", d)
	}
	select {
	case <-sub:
	default:
		t.Error("subscriber not woken by Advance")
	}
	o.Advance(-time.Hour)
	if o.Offset() != 12*time.Hour {
		t.Errorf("negative Advance changed the offset to %v", o.Offset())
	}
}
