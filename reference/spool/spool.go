// Package spool holds the messages an instance is working on in files of its
// data directory, so that a large message is never held whole in memory
// (issue "streamed from disk"): what arrives over SMTP is written to a spool
// file as it arrives (Receive) once it passes Small bytes — a message up to
// Small stays in its buffer, which costs less than a file and bounds memory
// all the same — and a large message the instance composes is written to one
// as it is signed (Create). A spool file is scratch until it
// is handed over — renamed into the queue, copied into a Maildir — so files
// received over SMTP are not fsynced (nothing was acknowledged yet), composed
// ones are (Commit) before they are handed over. Spool files are reused, not
// deleted (as internal/durable.Pool does for the queue): a received message
// costs no new inode.
package spool

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// keep bounds the emptied files kept for reuse.
const keep = 64

// Small is the size up to which Receive keeps a message in memory.
const Small = 1 << 20

// Dir is an instance's spool directory.
type Dir struct {
	path string
	seq  atomic.Uint64
	mu   sync.Mutex
	idle []string // emptied files ready for reuse
}

// Open opens (creating) the spool directory at path. What a previous run left
// there is scratch of a run that ended: removed.
func Open(path string) (*Dir, error) {
	if err := os.RemoveAll(path); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return &Dir{path: path}, nil
}

// Message is one message in a spool file, or in memory when it is small.
type Message struct {
	d    *Dir
	path string // "" when in memory
	size int64
	data []byte // the message when in memory
	nul  bool   // a NUL byte arrived (Receive)
}

// NUL reports whether the received message holds a NUL byte, which no
// message may (RFC 5322 §3.5 text, RFC 6152 §2): a mailbox server changes it
// on the way to the user (IMAP literals cannot carry it, RFC 3501 §4.3), so a
// signed message holding one could never be verified by its reader.
func (m *Message) NUL() bool { return m.nul }

// Path is the spool file's path ("" for a small message held in memory).
func (m *Message) Path() string { return m.path }

// Size is the message's length in bytes.
func (m *Message) Size() int64 { return m.size }

// Bytes is the message when it is held in memory (small), else nil.
func (m *Message) Bytes() []byte { return m.data }

// Reader reads a message: its file, or its bytes.
type Reader interface {
	io.Reader
	io.ReaderAt
	io.Seeker
	io.Closer
}

// Open opens the message for reading.
func (m *Message) Open() (Reader, error) {
	if m.path == "" {
		return nopCloser{bytes.NewReader(m.data)}, nil
	}
	return os.Open(m.path)
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// Head returns the message's header, up to and including the empty line that
// ends it (or the whole message when it has none), reading at most max bytes;
// over that, ErrHeadTooLarge.
func (m *Message) Head(max int) ([]byte, error) {
	f, err := m.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadHead(bufio.NewReader(f), max)
}

// ErrHeadTooLarge is a header longer than the caller's bound.
var ErrHeadTooLarge = errors.New("spool: header too large")

// ReadHead reads from r the header of a message (RFC 5322 §2.1: up to the
// first empty line, which it includes), at most max bytes.
func ReadHead(r *bufio.Reader, max int) ([]byte, error) {
	var head []byte
	for {
		line, err := r.ReadSlice('\n')
		if len(head)+len(line) > max {
			return nil, ErrHeadTooLarge
		}
		head = append(head, line...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil || bytes.Equal(line, []byte("\r\n")) || bytes.Equal(line, []byte("\n")) {
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			return head, nil
		}
	}
}

// Map maps the message read-only into memory (mmap): its bytes are the file's
// pages, which the kernel reads in and may drop again, not a copy on the
// heap. unmap must be called once nothing refers to the bytes any more.
func (m *Message) Map() (data []byte, unmap func(), err error) {
	if m.path == "" {
		return m.data, func() {}, nil
	}
	if m.size == 0 {
		return []byte{}, func() {}, nil
	}
	f, err := os.Open(m.path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	data, err = unix.Mmap(int(f.Fd()), 0, int(m.size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, fmt.Errorf("spool: map %s: %w", m.path, err)
	}
	_ = unix.Madvise(data, unix.MADV_SEQUENTIAL)
	return data, func() { _ = unix.Munmap(data) }, nil
}

// Release gives the spool file back for reuse (emptied); the message is gone.
func (m *Message) Release() {
	if m.path != "" {
		m.d.release(m.path)
	}
}

// Receive takes prefix then everything r yields: in memory up to Small
// bytes, else written to a spool file as it arrives. On a read error (a
// client that went away, a message over the SMTP size limit) nothing is kept
// and the error is returned.
func (d *Dir) Receive(prefix []byte, r io.Reader) (*Message, error) {
	nr := &nulReader{r: r}
	msg, err := d.receive(prefix, nr)
	if msg != nil {
		msg.nul = nr.nul || bytes.IndexByte(prefix, 0) >= 0
	}
	return msg, err
}

// nulReader notes whether a NUL byte went through.
type nulReader struct {
	r   io.Reader
	nul bool
}

func (n *nulReader) Read(p []byte) (int, error) {
	k, err := n.r.Read(p)
	if !n.nul && bytes.IndexByte(p[:k], 0) >= 0 {
		n.nul = true
	}
	return k, err
}

func (d *Dir) receive(prefix []byte, r io.Reader) (*Message, error) {
	var buf bytes.Buffer
	buf.Write(prefix)
	n, err := buf.ReadFrom(io.LimitReader(r, int64(Small+1-buf.Len())))
	if err != nil {
		return nil, err
	}
	if buf.Len() <= Small && n < int64(Small+1) {
		return &Message{d: d, size: int64(buf.Len()), data: buf.Bytes()}, nil
	}
	w, err := d.Create()
	if err != nil {
		return nil, err
	}
	_, err = w.Write(buf.Bytes())
	buf = bytes.Buffer{} // the first MiB is garbage now, not kept across the copy
	if err != nil {
		w.Abort()
		return nil, err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Abort()
		return nil, err
	}
	return w.close(false)
}

// Adopt links path — a durable file on the spool's file system holding a
// composed message, such as a journal's copy of a large envelope — into the
// spool as a message composed there; path keeps its own link. The message
// is to be handed over (renamed away): its Release would empty the file
// both links share.
func (d *Dir) Adopt(path string) (*Message, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	p := filepath.Join(d.path, "a"+strconv.FormatUint(d.seq.Add(1), 10))
	if err := os.Link(path, p); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return &Message{d: d, path: p, size: st.Size()}, nil
}

// Writer writes one message into a spool file.
type Writer struct {
	d    *Dir
	f    *os.File
	bw   *bufio.Writer
	size int64
}

// Create starts a spool file.
func (d *Dir) Create() (*Writer, error) {
	f, err := d.file()
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return &Writer{d: d, f: f, bw: bufio.NewWriterSize(f, 64<<10)}, nil
}

func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.bw.Write(p)
	w.size += int64(n)
	return n, err
}

// Commit ends the message and makes it durable (fsync): it may then be handed
// over by rename or link.
func (w *Writer) Commit() (*Message, error) { return w.close(true) }

func (w *Writer) close(sync bool) (*Message, error) {
	err := w.bw.Flush()
	if err == nil && sync {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		w.d.release(w.f.Name())
		return nil, fmt.Errorf("spool: %w", err)
	}
	return &Message{d: w.d, path: w.f.Name(), size: w.size}, nil
}

// Abort drops what was written.
func (w *Writer) Abort() {
	w.f.Close()
	w.d.release(w.f.Name())
}

// file opens an idle spool file (emptied) or creates one.
func (d *Dir) file() (*os.File, error) {
	d.mu.Lock()
	var p string
	if n := len(d.idle); n > 0 {
		p, d.idle = d.idle[n-1], d.idle[:n-1]
	}
	d.mu.Unlock()
	if p == "" {
		p = filepath.Join(d.path, strconv.FormatUint(d.seq.Add(1), 10))
	}
	return os.OpenFile(p, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
}

// release empties the file at p and keeps it for reuse; a file that was
// handed over (renamed away) is simply forgotten.
func (d *Dir) release(p string) {
	if err := os.Truncate(p, 0); err != nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.idle) < keep {
		d.idle = append(d.idle, p)
		return
	}
	os.Remove(p)
}
