package txlog

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// File names inside a registro directory.
const (
	LogFile  = "registro.log"
	HeadFile = "registro.head"
)

// KeyWindow is how long a record's Key is remembered: twice the 24 h a
// sending MTA keeps retrying (RFC 6109 §2.2.2).
const KeyWindow = 48 * time.Hour

// maxRecord bounds one frame: a record is a few hundred bytes plus its
// recipient list (at most 500 addresses).
const maxRecord = 1 << 20

// Log is an open registro. Append is safe for concurrent use; concurrent
// appends share one fsync (group commit).
type Log struct {
	dir string

	mu      sync.Mutex // guards f's tail, seq, prev, written
	f       *os.File
	seq     uint64
	prev    string
	written uint64               // seq of the last record written (not yet necessarily synced)
	keys    map[string]time.Time // Keys of the records of the last KeyWindow

	smu    sync.Mutex // serialises fsync and the head's writes
	synced uint64
	hf     *os.File // the head file, kept open (written in place)
}

// Head is the last record's sequence number and hash.
type Head struct {
	Seq  uint64 `msgpack:"seq" json:"seq"`
	Hash string `msgpack:"hash" json:"hash"`
}

// Open opens (creating) the registro in dir. A torn last frame, which a crash
// during an unacknowledged append can leave, is cut off; any other damage is
// an error: the registro is never rewritten.
func Open(dir string) (*Log, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("txlog: %w", err)
	}
	path := filepath.Join(dir, LogFile)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("txlog: %w", err)
	}
	l := &Log{dir: dir, f: f, keys: map[string]time.Time{}}
	end, err := l.scan()
	if err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Truncate(end); err != nil {
		f.Close()
		return nil, fmt.Errorf("txlog: cut torn tail: %w", err)
	}
	if _, err := f.Seek(end, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("txlog: %w", err)
	}
	l.written, l.synced = l.seq, l.seq
	if l.hf, err = os.OpenFile(filepath.Join(dir, HeadFile), os.O_CREATE|os.O_RDWR, 0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("txlog: head: %w", err)
	}
	if l.seq > 0 {
		// The head of what is durable now, so the file is empty only in a
		// first run that crashed before its first sync.
		if err := l.writeHead(Head{Seq: l.seq, Hash: l.prev}); err != nil {
			l.hf.Close()
			f.Close()
			return nil, err
		}
	}
	return l, nil
}

// scan walks the existing records, checking the chain, and returns the offset
// after the last complete one.
func (l *Log) scan() (int64, error) {
	r := &Reader{r: bufio.NewReader(l.f)}
	var last time.Time
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) || errors.Is(err, errTorn) {
			for k, t := range l.keys {
				if last.Sub(t) > KeyWindow {
					delete(l.keys, k)
				}
			}
			return r.off, nil
		}
		if err != nil {
			return 0, err
		}
		if err := check(rec, l.seq, l.prev); err != nil {
			return 0, err
		}
		l.seq, l.prev = rec.Seq, rec.Hash
		if rec.Key != "" {
			l.keys[rec.Key] = rec.Time
		}
		last = rec.Time
	}
}

// Append writes rec as the next record and returns when it is on disk. It
// fills rec's Seq, Prev and Hash. A record with the Key of one already
// written is not written again.
func (l *Log) Append(rec *Record) error {
	l.mu.Lock()
	if _, dup := l.keys[rec.Key]; dup && rec.Key != "" {
		seq := l.written
		l.mu.Unlock()
		return l.sync(seq)
	}
	data, err := rec.seal(l.seq+1, l.prev)
	if err != nil {
		l.mu.Unlock()
		return fmt.Errorf("txlog: encode: %w", err)
	}
	frame := make([]byte, 4+len(data))
	binary.BigEndian.PutUint32(frame, uint32(len(data)))
	copy(frame[4:], data)
	if _, err := l.f.Write(frame); err != nil {
		l.mu.Unlock()
		return fmt.Errorf("txlog: write: %w", err)
	}
	l.seq, l.prev, l.written = rec.Seq, rec.Hash, rec.Seq
	if rec.Key != "" {
		l.keys[rec.Key] = rec.Time
	}
	l.mu.Unlock()
	return l.sync(rec.Seq)
}

// sync makes every record up to seq durable; one fsync covers every append
// written meanwhile. The head file follows (rename, no fsync of its own: after
// a crash it may lag the log, never lead it).
func (l *Log) sync(seq uint64) error {
	l.smu.Lock()
	defer l.smu.Unlock()
	if l.synced >= seq {
		return nil
	}
	l.mu.Lock()
	head := Head{Seq: l.written, Hash: l.prev}
	l.mu.Unlock()
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("txlog: fsync: %w", err)
	}
	l.synced = head.Seq
	return l.writeHead(head)
}

// writeHead writes the head in place (one pwrite of a few dozen bytes, no
// file created per sync): the head only grows (the sequence number does), so
// nothing of an older head is left after it, and a write this small within
// the first sector does not tear.
func (l *Log) writeHead(h Head) error {
	data, err := msgpack.Marshal(h)
	if err != nil {
		return err
	}
	if _, err := l.hf.WriteAt(data, 0); err != nil {
		return fmt.Errorf("txlog: head: %w", err)
	}
	return nil
}

// Head returns the last durable record's sequence number and hash.
func (l *Log) Head() Head {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Head{Seq: l.seq, Hash: l.prev}
}

// Close syncs and closes the file.
func (l *Log) Close() error {
	l.mu.Lock()
	seq := l.written
	l.mu.Unlock()
	err := l.sync(seq)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	if cerr := l.hf.Close(); err == nil {
		err = cerr
	}
	return err
}

// Reader reads records one by one from a registro stream.
type Reader struct {
	r   *bufio.Reader
	off int64
}

// NewReader reads the frames of r.
func NewReader(r io.Reader) *Reader { return &Reader{r: bufio.NewReader(r)} }

// errTorn marks an incomplete last frame.
var errTorn = errors.New("txlog: torn last record")

// Next returns the next record, io.EOF at a clean end, errTorn for an
// incomplete frame at the end, another error for a frame that does not decode.
func (r *Reader) Next() (*Record, error) {
	var hdr [4]byte
	n, err := io.ReadFull(r.r, hdr[:])
	if n == 0 && errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if err != nil {
		return nil, errTorn
	}
	size := binary.BigEndian.Uint32(hdr[:])
	if size == 0 || size > maxRecord {
		return nil, fmt.Errorf("txlog: record at offset %d: bad length %d", r.off, size)
	}
	buf := make([]byte, size)
	if _, err := io.ReadFull(r.r, buf); err != nil {
		return nil, errTorn
	}
	var rec Record
	if err := decode(buf, &rec); err != nil {
		return nil, fmt.Errorf("txlog: record at offset %d: %w", r.off, err)
	}
	r.off += 4 + int64(size)
	return &rec, nil
}

// decode reads one msgpack value with a decoder of its own, not
// msgpack.Unmarshal's pooled one: skipping a field that declares a huge length
// grows the decoder's buffer, and a pooled decoder keeps it (300 hostile
// frames held 820 MB after GC; the fuzzer's workers died of it).
func decode(data []byte, v any) error {
	return msgpack.NewDecoder(bytes.NewReader(data)).Decode(v)
}

// check verifies rec against its predecessor's sequence number and hash.
func check(rec *Record, prevSeq uint64, prevHash string) error {
	if rec.Seq != prevSeq+1 {
		return fmt.Errorf("txlog: record %d follows record %d: records removed or reordered", rec.Seq, prevSeq)
	}
	if rec.Prev != prevHash {
		return fmt.Errorf("txlog: record %d: chain broken (prev %.12s…, expected %.12s…)", rec.Seq, rec.Prev, prevHash)
	}
	sum, err := rec.digest()
	if err != nil {
		return fmt.Errorf("txlog: record %d: %w", rec.Seq, err)
	}
	if sum != rec.Hash {
		return fmt.Errorf("txlog: record %d: content edited (hash %.12s…, recomputed %.12s…)", rec.Seq, rec.Hash, sum)
	}
	return nil
}

func equalFold(a, b string) bool { return a != "" && strings.EqualFold(strings.TrimSpace(a), b) }
