package tracker

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type emitted struct {
	rcpt  string
	hours int
	at    time.Duration // after dispatch
}

func open(t *testing.T, dir string, clk *fakeClock, start time.Time, out *[]emitted) *Tracker {
	t.Helper()
	tr, err := Open(Options{Dir: dir, Clock: clk.Now, Emit: func(d Dispatch, rcpt string, hours int) error {
		*out = append(*out, emitted{rcpt, hours, clk.Now().Sub(start)})
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func dispatch(at time.Time) Dispatch {
	return Dispatch{ID: "opec1.abc@pec.alpha.test", Subject: "s", Sender: "alice@pec.alpha.test", Instant: at,
		Recipients: []Party{{"bob@pec.beta.test", true}, {"carol@example.test", false}}}
}

// TestCases runs RFC 6109 §3.1.6 cases a, b and c, plus the delivered case,
// on an advanced clock: exactly the notices the RFC requires, each dated
// when it fell due.
func TestCases(t *testing.T) {
	cases := []struct {
		name   string
		events func(tr *Tracker, clk *fakeClock)
		want   []emitted
	}{
		{"a: presa in carico, never consegna", func(tr *Tracker, clk *fakeClock) {
			clk.add(time.Hour)
			must(t, tr.TakenInCharge("<opec1.abc@pec.alpha.test>", []string{"BOB@pec.beta.test"}))
			tr.AdvanceThrough(30*time.Hour, clk.add)
		}, []emitted{{"bob@pec.beta.test", 24, 24 * time.Hour}}},
		{"b: consegna between 12 h and 24 h", func(tr *Tracker, clk *fakeClock) {
			tr.AdvanceThrough(13*time.Hour, clk.add)
			must(t, tr.Outcome("opec1.abc@pec.alpha.test", "bob@pec.beta.test"))
			tr.AdvanceThrough(20*time.Hour, clk.add)
		}, []emitted{{"bob@pec.beta.test", 12, 12 * time.Hour}}},
		{"c: neither", func(tr *Tracker, clk *fakeClock) {
			tr.AdvanceThrough(48*time.Hour, clk.add)
		}, []emitted{{"bob@pec.beta.test", 12, 12 * time.Hour}, {"bob@pec.beta.test", 24, 24 * time.Hour}}},
		{"delivered within 12 h", func(tr *Tracker, clk *fakeClock) {
			clk.add(time.Minute)
			must(t, tr.Outcome("opec1.abc@pec.alpha.test", "bob@pec.beta.test"))
			tr.AdvanceThrough(48*time.Hour, clk.add)
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Date(2026, 3, 28, 20, 0, 0, 0, time.UTC)
			clk := &fakeClock{now: start}
			var got []emitted
			tr := open(t, t.TempDir(), clk, start, &got)
			must(t, tr.Track(dispatch(start)))
			c.events(tr, clk)
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("notices %v, want %v", got, c.want)
			}
			if tr.Len() != 0 {
				t.Errorf("%d records left after the transaction ended", tr.Len())
			}
		})
	}
}

// TestRestart: the state survives a new Tracker on the same directory, and a
// notice already sent is not sent again (TIM-05).
func TestRestart(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	clk := &fakeClock{now: start}
	var got []emitted
	tr := open(t, dir, clk, start, &got)
	must(t, tr.Track(dispatch(start)))
	tr.AdvanceThrough(13*time.Hour, clk.add)
	tr2 := open(t, dir, clk, start, &got)
	if tr2.Len() != 1 {
		t.Fatalf("reopened tracker holds %d records, want 1", tr2.Len())
	}
	tr2.AdvanceThrough(13*time.Hour, clk.add)
	want := []emitted{{"bob@pec.beta.test", 12, 12 * time.Hour}, {"bob@pec.beta.test", 24, 24 * time.Hour}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("notices %v, want %v", got, want)
	}
}

// TestExternalOnlyNotTracked: esterno recipients get no timers (pec-rules A21).
func TestExternalOnlyNotTracked(t *testing.T) {
	clk := &fakeClock{now: time.Now()}
	var got []emitted
	tr := open(t, t.TempDir(), clk, clk.now, &got)
	d := dispatch(clk.now)
	d.Recipients = d.Recipients[1:]
	must(t, tr.Track(d))
	if _, ok := tr.NextDue(); ok || tr.Len() != 0 {
		t.Errorf("a message to external recipients only is tracked")
	}
}

// TestFailedEmitIsRetried: a notice that could not be stored is owed again.
func TestFailedEmitIsRetried(t *testing.T) {
	start := time.Now()
	clk := &fakeClock{now: start}
	fail := true
	n := 0
	tr, err := Open(Options{Dir: t.TempDir(), Clock: clk.Now, Emit: func(Dispatch, string, int) error {
		if fail {
			return fmt.Errorf("disk full")
		}
		n++
		return nil
	}})
	must(t, err)
	must(t, tr.Track(dispatch(start)))
	tr.AdvanceThrough(12*time.Hour+time.Minute, clk.add)
	fail = false
	tr.Process()
	if n != 1 {
		t.Errorf("%d notices after the retry, want 1", n)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestCorruptRecordMovedAside: a damaged file does not stop the others.
func TestCorruptRecordMovedAside(t *testing.T) {
	dir := t.TempDir()
	start := time.Now()
	clk := &fakeClock{now: start}
	var got []emitted
	tr := open(t, dir, clk, start, &got)
	must(t, tr.Track(dispatch(start)))
	must(t, os.WriteFile(filepath.Join(dir, "broken.rec"), []byte("\xff\x00garbage"), 0o600))
	tr2 := open(t, dir, clk, start, &got)
	if tr2.Len() != 1 {
		t.Errorf("%d records loaded, want the intact one", tr2.Len())
	}
	if _, err := os.Stat(filepath.Join(dir, "broken.rec.bad")); err != nil {
		t.Errorf("the corrupt record was not kept aside: %v", err)
	}
}

// TestRecordFilesRecycled: a finished record's file is parked and carries
// the next record (durable.Pool), a leftover temporary file from a crash is
// cleared at Open, and neither is read as a record.
func TestRecordFilesRecycled(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	clk := &fakeClock{now: start}
	var got []emitted
	tr := open(t, dir, clk, start, &got)
	d := dispatch(start)
	must(t, tr.Track(d))
	must(t, tr.Outcome(d.ID, "bob@pec.beta.test"))
	if _, err := os.Stat(tr.path(d.ID)); !os.IsNotExist(err) {
		t.Fatalf("finished record's file still there: %v", err)
	}
	must(t, os.WriteFile(filepath.Join(dir, "opec9.x@pec.alpha.test.rec.tmp"), []byte("torn"), 0o600))
	tr2 := open(t, dir, clk, start, &got)
	if tr2.Len() != 0 {
		t.Fatalf("reopened tracker holds %d records, want 0", tr2.Len())
	}
	if _, err := os.Stat(filepath.Join(dir, "opec9.x@pec.alpha.test.rec.tmp")); !os.IsNotExist(err) {
		t.Errorf("leftover temporary file not cleared: %v", err)
	}
	// Parked: the finished record's file and the cleared temporary one.
	if tr2.files.Idle() != 2 {
		t.Fatalf("%d parked files, want 2", tr2.files.Idle())
	}
	d.ID = "opec2.def@pec.alpha.test"
	must(t, tr2.Track(d))
	if tr2.files.Idle() != 1 {
		t.Errorf("the new record did not take a parked file: %d idle", tr2.files.Idle())
	}
	if len(got) != 0 {
		t.Errorf("notices %v", got)
	}
}

// TestPathsDistinct: ids that differ only in characters a file name cannot
// hold get different files, and a record named by the earlier rule (without
// the hash) is moved to its current name at Open.
func TestPathsDistinct(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	clk := &fakeClock{now: start}
	var got []emitted
	tr := open(t, dir, clk, start, &got)
	if a, b := tr.path("a/b@x"), tr.path("a:b@x"); a == b {
		t.Fatalf("two ids share %s", a)
	}
	d := dispatch(start)
	d.ID = "op/1@pec.alpha.test"
	must(t, tr.Track(d))
	old := filepath.Join(dir, "op_1@pec.alpha.test.rec")
	must(t, os.Rename(tr.path(d.ID), old))
	tr2 := open(t, dir, clk, start, &got)
	if tr2.Len() != 1 {
		t.Fatalf("reopened tracker holds %d records, want 1", tr2.Len())
	}
	if _, err := os.Stat(tr2.path(d.ID)); err != nil {
		t.Errorf("record not moved to its current name: %v", err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("earlier name still there: %v", err)
	}
}

// TestTrackAgainKeepsRecord: a dispatch tracked again (a commit the access
// point replays after a crash) keeps what its record learnt: the presa in
// carico already received still moves the 12 h notice to 24 h only.
func TestTrackAgainKeepsRecord(t *testing.T) {
	start := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	clk := &fakeClock{now: start}
	var got []emitted
	tr := open(t, t.TempDir(), clk, start, &got)
	must(t, tr.Track(dispatch(start)))
	must(t, tr.TakenInCharge("opec1.abc@pec.alpha.test", []string{"bob@pec.beta.test"}))
	must(t, tr.Track(dispatch(start)))
	tr.AdvanceThrough(30*time.Hour, clk.add)
	if want := []emitted{{"bob@pec.beta.test", 24, 24 * time.Hour}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("notices %v, want %v", got, want)
	}
}
