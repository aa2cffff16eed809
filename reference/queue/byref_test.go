package queue

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestEnqueueFile: a message queued by reference is taken from its file
// (renamed into the queue, not copied), survives a restart, is delivered
// byte for byte, and its file goes with the item; the same ID again is not
// taken; a body a crash left without its item is dropped at load.
func TestEnqueueFile(t *testing.T) {
	m, addr, pool := startMX(t, true)
	dir := t.TempDir()
	clk := &clock{now: time.Now()}
	q := open(t, dir, addr, pool, clk, nil)
	src := filepath.Join(dir, "..", filepath.Base(dir)+"-spooled") // same file system as the queue
	if err := os.WriteFile(src, []byte(msg), 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(src)
	it := Item{ID: "big-1", From: "a@pec.alpha.test", To: []string{"b@pec.beta.test"}}
	if _, taken, err := q.EnqueueFile(it, src); err != nil || !taken {
		t.Fatalf("EnqueueFile: taken %v, %v", taken, err)
	}
	if _, err := os.Stat(src); !os.IsNotExist(err) {
		t.Errorf("the file is still at its source: %v", err)
	}
	os.WriteFile(src, []byte(msg), 0o600)
	if _, taken, _ := q.EnqueueFile(it, src); taken {
		t.Error("the same ID was taken twice")
	}
	os.WriteFile(filepath.Join(dir, "orphan"+bodySuffix), []byte("x"), 0o600)
	q.Close()
	q2 := open(t, dir, addr, pool, clk, nil)
	if _, err := os.Stat(filepath.Join(dir, "orphan"+bodySuffix)); !os.IsNotExist(err) {
		t.Errorf("an orphan body survived load: %v", err)
	}
	run(t, q2)
	if got := wait(t, m.notify); string(got.data) != msg {
		t.Errorf("delivered %q", got.data)
	}
	for deadline := time.Now().Add(10 * time.Second); q2.Len() != 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond) // the removal follows the delivery's notification
	}
	if _, err := os.Stat(q2.bodyPath("big-1")); !os.IsNotExist(err) {
		t.Errorf("the body outlived its item: %v", err)
	}
}
