// Package antivirus scans messages with clamd (RFC 6109 §3.1.3, §5.4: the
// access point must scan every submission; OPS-04).
package antivirus

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// Result is a scan verdict.
type Result struct {
	Infected  bool
	Signature string // e.g. PECSpec.Test.EICAR (".UNOFFICIAL" stripped)
	// Limit marks a verdict on content clamd could not scan whole: a
	// Heuristics.Limits.Exceeded.* alert (recursion, file or scan size, scan
	// time; clamd's AlertExceedsMax) or a stream over clamd's size limit. Such
	// a message is Infected too: what was not scanned is not vouched for, so
	// it is refused as a virus would be (RFC 6109 §3.1.3, §3.2.3; issue 15).
	Limit bool
}

// Scanner scans a message.
type Scanner interface {
	Scan(ctx context.Context, r io.Reader) (Result, error)
}

// Func adapts a function to a Scanner (unit tests of other packages).
type Func func(ctx context.Context, r io.Reader) (Result, error)

// Scan calls f.
func (f Func) Scan(ctx context.Context, r io.Reader) (Result, error) { return f(ctx, r) }

// ErrClamd wraps every failure to get a verdict from clamd.
var ErrClamd = errors.New("antivirus: clamd")

// Clamd talks to clamd over its socket with INSTREAM.
type Clamd struct {
	Network, Addr string
	Timeout       time.Duration
}

var _ Scanner = (*Clamd)(nil)

// NewClamd returns a client for clamd at addr ("unix" socket path or "tcp" host:port).
func NewClamd(network, addr string) *Clamd {
	return &Clamd{Network: network, Addr: addr, Timeout: 60 * time.Second}
}

func (c *Clamd) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, c.Network, c.Addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrClamd, err)
	}
	dl := time.Now().Add(c.Timeout)
	if ctxDL, ok := ctx.Deadline(); ok && ctxDL.Before(dl) {
		dl = ctxDL
	}
	conn.SetDeadline(dl)
	return conn, nil
}

// Ping checks that clamd answers PONG.
func (c *Clamd) Ping(ctx context.Context) error {
	conn, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("zPING\x00")); err != nil {
		return fmt.Errorf("%w: %v", ErrClamd, err)
	}
	reply, err := readReply(conn)
	if err != nil {
		return err
	}
	if reply != "PONG" {
		return fmt.Errorf("%w: PING answered %q", ErrClamd, reply)
	}
	return nil
}

// Scan streams r to clamd in chunks (INSTREAM) and reads the verdict.
func (c *Clamd) Scan(ctx context.Context, r io.Reader) (Result, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return Result{}, err
	}
	defer conn.Close()
	werr := stream(conn, r)
	reply, rerr := readReply(conn) // on a write error clamd may have said why (size limit)
	if rerr != nil {
		return Result{}, errors.Join(fmt.Errorf("%w: write: %v", ErrClamd, werr), rerr)
	}
	res, err := parse(reply)
	if err == nil && werr != nil && !res.Limit {
		// The stream broke before its end: a verdict on part of it is none.
		return Result{}, fmt.Errorf("%w: write: %v (clamd said %q)", ErrClamd, werr, reply)
	}
	return res, err
}

func stream(w io.Writer, r io.Reader) error {
	if _, err := w.Write([]byte("zINSTREAM\x00")); err != nil {
		return err
	}
	buf := make([]byte, 64<<10)
	var size [4]byte
	for {
		n, err := r.Read(buf)
		if n > 0 {
			binary.BigEndian.PutUint32(size[:], uint32(n))
			if _, werr := w.Write(size[:]); werr != nil {
				return werr
			}
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	_, err := w.Write([]byte{0, 0, 0, 0})
	return err
}

func readReply(r io.Reader) (string, error) {
	data, err := io.ReadAll(io.LimitReader(r, 4096))
	if err != nil && len(data) == 0 {
		return "", fmt.Errorf("%w: read reply: %v", ErrClamd, err)
	}
	return strings.TrimSpace(string(bytes.TrimRight(data, "\x00"))), nil
}

// LimitPrefix starts the names clamd reports for content over its limits
// when AlertExceedsMax is on.
const LimitPrefix = "Heuristics.Limits.Exceeded"

// scanTimeLimit is the alert of a scan cut at clamd's MaxScanTime: the time
// depends on the machine's load as much as on the content (a 50 MB message
// took over 15 s on a loaded machine), so it is not a verdict on the content
// but a scanner that could not finish — a temporary failure (4xx, the sender
// retries), never a pass and never a virus.
const scanTimeLimit = LimitPrefix + ".MaxScanTime"

// sizeLimitReply is clamd's answer to a stream longer than StreamMaxLength.
const sizeLimitReply = "INSTREAM size limit exceeded"

// parse reads "stream: OK", "stream: NAME FOUND" or "... ERROR". Only a
// failure of clamd itself is an error (the client retries); every verdict on
// the content, a limit included, is a Result.
func parse(reply string) (Result, error) {
	body := strings.TrimPrefix(reply, "stream: ")
	switch {
	case body == "OK":
		return Result{}, nil
	case strings.HasSuffix(body, " FOUND"):
		name := strings.TrimSuffix(strings.TrimSuffix(body, " FOUND"), ".UNOFFICIAL")
		if name == scanTimeLimit {
			return Result{}, fmt.Errorf("%w: scan not finished within clamd's MaxScanTime (%s)", ErrClamd, name)
		}
		return Result{Infected: true, Signature: name, Limit: strings.HasPrefix(name, LimitPrefix)}, nil
	case strings.HasPrefix(body, sizeLimitReply):
		return Result{Infected: true, Signature: LimitPrefix + ".StreamMaxLength", Limit: true}, nil
	default:
		return Result{}, fmt.Errorf("%w: %s", ErrClamd, reply)
	}
}
