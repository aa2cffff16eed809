package spool

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

// TestReceiveMapRelease: a received message over Small is in its file byte
// for byte, readable, mapped and its header read; released, its file is
// reused by the next large message (no new inode) and holds nothing of the
// old one. A small message stays in memory.
func TestReceiveMapRelease(t *testing.T) {
	d, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	msg := "Subject: a\r\nX: b\r\n\r\n" + strings.Repeat("body\r\n", Small/6+1)
	m, err := d.Receive([]byte("Received: x\r\n"), strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	want := "Received: x\r\n" + msg
	if m.Size() != int64(len(want)) {
		t.Errorf("size %d, want %d", m.Size(), len(want))
	}
	data, unmap, err := m.Map()
	if err != nil || string(data) != want {
		t.Fatalf("Map = %q, %v", data, err)
	}
	unmap()
	if head, err := m.Head(1 << 10); err != nil || string(head) != "Received: x\r\nSubject: a\r\nX: b\r\n\r\n" {
		t.Errorf("Head = %q, %v", head, err)
	}
	if _, err := m.Head(10); !errors.Is(err, ErrHeadTooLarge) {
		t.Errorf("Head over the bound: %v", err)
	}
	path := m.Path()
	if path == "" {
		t.Fatal("a message over Small was kept in memory")
	}
	m.Release()
	big := strings.Repeat("y", Small+1)
	m2, err := d.Receive(nil, strings.NewReader(big))
	if err != nil || m2.Path() != path {
		t.Fatalf("second message in %s, %v; want the released file %s", m2.Path(), err, path)
	}
	if got, _ := os.ReadFile(m2.Path()); string(got) != big {
		t.Errorf("reused file holds %d bytes, want %d", len(got), len(big))
	}
	small, err := d.Receive([]byte("R: 1\r\n"), strings.NewReader("x"))
	if err != nil || small.Path() != "" || string(small.Bytes()) != "R: 1\r\nx" {
		t.Errorf("small message: path %q, bytes %q, %v; want in memory", small.Path(), small.Bytes(), err)
	}
}

// TestReceiveError: a read error (a transfer over the SMTP limit) keeps
// nothing.
func TestReceiveError(t *testing.T) {
	dir := t.TempDir()
	d, _ := Open(dir)
	_, err := d.Receive(nil, io.MultiReader(strings.NewReader("part"), iotestErr{}))
	if err == nil {
		t.Fatal("error not reported")
	}
	if _, err := d.Receive(nil, io.MultiReader(strings.NewReader(strings.Repeat("z", Small+10)), iotestErr{})); err == nil {
		t.Fatal("error past Small not reported")
	}
	for _, p := range d.idle {
		if st, err := os.Stat(p); err != nil || st.Size() != 0 {
			t.Errorf("the failed message left %s: %v, %v", p, st, err)
		}
	}
}

type iotestErr struct{}

func (iotestErr) Read([]byte) (int, error) { return 0, errors.New("too large") }

// TestReadHead: the header ends at the first empty line, CRLF or LF; a
// message without one is all header.
func TestReadHead(t *testing.T) {
	for in, want := range map[string]string{
		"A: 1\r\n\r\nbody": "A: 1\r\n\r\n", "A: 1\n\nbody": "A: 1\n\n", "A: 1\r\nB: 2": "A: 1\r\nB: 2", "": "",
	} {
		got, err := ReadHead(bufio.NewReader(bytes.NewReader([]byte(in))), 100)
		if err != nil || string(got) != want {
			t.Errorf("ReadHead(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestAdopt: a file kept elsewhere becomes a spool message with the same
// bytes; handing the message over (a rename, as the queue does) leaves the
// kept link whole.
func TestAdopt(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir + "/spool")
	if err != nil {
		t.Fatal(err)
	}
	kept := dir + "/kept.env"
	if err := os.WriteFile(kept, []byte("Subject: grande\r\n\r\ncorpo\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := d.Adopt(kept)
	if err != nil {
		t.Fatal(err)
	}
	if m.Path() == kept || m.Size() != 26 {
		t.Fatalf("adopted message at %s, %d bytes", m.Path(), m.Size())
	}
	if err := os.Rename(m.Path(), dir+"/queued"); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(kept); err != nil || string(got) != "Subject: grande\r\n\r\ncorpo\r\n" {
		t.Errorf("kept file after the hand-over: %q, %v", got, err)
	}
	if _, err := d.Adopt(dir + "/missing"); err == nil {
		t.Error("Adopt of a missing file succeeded")
	}
}
