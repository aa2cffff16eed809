package txlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))

func rec(i int, sender string) *Record {
	return &Record{Time: t0.Add(time.Duration(i) * time.Minute), Event: EventAccettazione,
		MsgID: "opec.id" + string(rune('a'+i%26)) + "@pec.alpha.test", Sender: sender,
		Recipients: []string{"bob@pec.beta.test", "carol@posta.esterna.test"}, Subject: "prova è",
		Related: []string{"<env@pec.alpha.test>"}, Provider: "Alpha"}
}

func fill(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := l.Append(rec(i, []string{"alice@pec.alpha.test", "ann@pec.alpha.test"}[i%2])); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// frames splits the raw log into its frames.
func frames(t *testing.T, dir string) [][]byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, LogFile))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for len(raw) > 0 {
		n := 4 + int(binary.BigEndian.Uint32(raw))
		out = append(out, raw[:n])
		raw = raw[n:]
	}
	return out
}

func writeFrames(t *testing.T, dir string, fr [][]byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, LogFile), bytes.Join(fr, nil), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestAppendVerifyReopen(t *testing.T) {
	dir := fill(t, 5)
	head, err := Verify(dir)
	if err != nil || head.Seq != 5 || len(head.Hash) != 64 {
		t.Fatalf("Verify = %+v, %v", head, err)
	}
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Head(); got != head {
		t.Errorf("reopened head %+v, want %+v", got, head)
	}
	r := rec(9, "x@pec.alpha.test")
	if err := l.Append(r); err != nil || r.Seq != 6 || r.Prev != head.Hash {
		t.Fatalf("append after reopen: seq %d prev %q err %v", r.Seq, r.Prev, err)
	}
	l.Close()
	var times []time.Time
	if err := Scan(dir, func(r *Record) error { times = append(times, r.Time); return nil }); err != nil {
		t.Fatal(err)
	}
	if !times[0].Equal(t0) {
		t.Errorf("time %v does not round-trip %v (LOG-03 needs the receipt's own instant)", times[0], t0)
	}
	if h, err := Verify(dir); err != nil || h.Seq != 6 {
		t.Errorf("Verify after reopen = %+v, %v", h, err)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	cases := map[string]func(t *testing.T, dir string){
		"edited subject": func(t *testing.T, dir string) {
			fr := frames(t, dir)
			fr[2] = bytes.Replace(fr[2], []byte("prova"), []byte("PROVA"), 1)
			writeFrames(t, dir, fr)
		},
		"edited and rehashed record": func(t *testing.T, dir string) {
			var recs []*Record
			_ = Scan(dir, func(r *Record) error { recs = append(recs, r); return nil })
			recs[1].Sender = "mallory@pec.alpha.test"
			data, _ := recs[1].seal(recs[1].Seq, recs[1].Prev)
			fr := frames(t, dir)
			fr[1] = binary.BigEndian.AppendUint32(nil, uint32(len(data)))
			fr[1] = append(fr[1], data...)
			writeFrames(t, dir, fr)
		},
		"removed middle record": func(t *testing.T, dir string) {
			fr := frames(t, dir)
			writeFrames(t, dir, append(fr[:2], fr[3:]...))
		},
		"removed last record": func(t *testing.T, dir string) {
			fr := frames(t, dir)
			writeFrames(t, dir, fr[:len(fr)-1])
		},
		"swapped records": func(t *testing.T, dir string) {
			fr := frames(t, dir)
			fr[1], fr[2] = fr[2], fr[1]
			writeFrames(t, dir, fr)
		},
		"truncated inside a record": func(t *testing.T, dir string) {
			fr := frames(t, dir)
			fr[3] = fr[3][:10]
			writeFrames(t, dir, fr[:4])
		},
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			dir := fill(t, 4)
			tamper(t, dir)
			if _, err := Verify(dir); !errors.Is(err, ErrTampered) {
				t.Fatalf("Verify = %v, want ErrTampered", err)
			}
			if n, err := Export(dir, Filter{}, "json", &bytes.Buffer{}); err == nil || n != 0 {
				t.Errorf("Export of an altered registro = %d, %v", n, err)
			}
		})
	}
}

func TestOpenCutsTornTailAndRefusesDamage(t *testing.T) {
	dir := fill(t, 3)
	f, _ := os.OpenFile(filepath.Join(dir, LogFile), os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte{0, 0, 1, 0, 'x', 'y'}) // a frame announcing 256 bytes, cut by a crash
	f.Close()
	l, err := Open(dir)
	if err != nil {
		t.Fatalf("Open with a torn tail: %v", err)
	}
	if err := l.Append(rec(7, "a@pec.alpha.test")); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if h, err := Verify(dir); err != nil || h.Seq != 4 {
		t.Fatalf("after torn tail: %+v, %v", h, err)
	}
	fr := frames(t, dir)
	fr[0] = bytes.Replace(fr[0], []byte("Alpha"), []byte("Alfa!"), 1)
	writeFrames(t, dir, fr)
	if _, err := Open(dir); err == nil {
		t.Error("Open accepted an edited registro")
	}
}

func TestConcurrentAppendsShareTheChain(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				if err := l.Append(rec(w*25+i, "a@pec.alpha.test")); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	l.Close()
	if h, err := Verify(dir); err != nil || h.Seq != 200 {
		t.Fatalf("Verify = %+v, %v", h, err)
	}
}

func TestExport(t *testing.T) {
	dir := fill(t, 6)
	var js bytes.Buffer
	n, err := Export(dir, Filter{User: "ANN@pec.alpha.test", From: t0.Add(2 * time.Minute)}, "json", &js)
	if err != nil || n != 2 {
		t.Fatalf("json export: %d records, %v\n%s", n, err, js.String())
	}
	if !strings.Contains(js.String(), `"sender":"ann@pec.alpha.test"`) || strings.Contains(js.String(), "alice@") {
		t.Errorf("json export selects the wrong records:\n%s", js.String())
	}
	var cs bytes.Buffer
	n, err = Export(dir, Filter{User: "bob@pec.beta.test", To: t0.Add(3 * time.Minute)}, "csv", &cs)
	lines := strings.Split(strings.TrimSpace(cs.String()), "\n")
	if err != nil || n != 3 || len(lines) != 4 || !strings.HasPrefix(lines[0], "seq,time,event") {
		t.Fatalf("csv export: %d, %v\n%s", n, err, cs.String())
	}
	if _, err := Export(dir, Filter{}, "xml", &cs); err == nil {
		t.Error("unknown format accepted")
	}
}

// FuzzReader: any bytes as a registro give records or an error, never a panic.
func FuzzReader(f *testing.F) {
	f.Add([]byte{0, 0, 0, 3, 0x81, 0xa1, 'a'})
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		var seq uint64
		var prev string
		for range 100 {
			rec, err := r.Next()
			if err != nil {
				return
			}
			if check(rec, seq, prev) != nil {
				return
			}
			seq, prev = rec.Seq, rec.Hash
		}
	})
}

// TestKeyedRecordsOnce: a record carrying the key of one already written — an
// output of a reception replayed after a crash — is not written again, also
// after reopening.
func TestKeyedRecordsOnce(t *testing.T) {
	dir := t.TempDir()
	l, _ := Open(dir)
	for range 2 {
		r := rec(1, "a@pec.alpha.test")
		r.Key = "abc-3"
		if err := l.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	l, _ = Open(dir)
	r := rec(1, "a@pec.alpha.test")
	r.Key = "abc-3"
	l.Append(r)
	l.Append(rec(2, "a@pec.alpha.test"))
	l.Close()
	if h, err := Verify(dir); err != nil || h.Seq != 2 {
		t.Fatalf("Verify = %+v, %v; want 2 records", h, err)
	}
}

// TestHostileFramesDoNotAccumulate is the fuzzer's find: frames whose
// skipped fields declare lengths of hundreds of megabytes made msgpack's
// pooled decoders keep their grown buffers (820 MB live after 300 frames),
// until the fuzzing process died. Reading them must leave nothing behind.
func TestHostileFramesDoNotAccumulate(t *testing.T) {
	// A 21-byte frame: a map whose nil key holds an array of maps, the last
	// value a str32 declaring 0x30303030 bytes.
	frame := []byte("\x00\x00\x00\x15\x81\xc0\x9c0\x860000\x8200\xdb00000000")
	for range 300 {
		if _, err := NewReader(bytes.NewReader(frame)).Next(); err == nil {
			t.Fatal("a truncated frame decoded")
		}
	}
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if m.HeapAlloc > 64<<20 {
		t.Fatalf("%d MiB live after reading 300 hostile frames, want under 64", m.HeapAlloc>>20)
	}
}
