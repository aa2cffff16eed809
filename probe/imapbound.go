package probe

import (
	"context"
	"fmt"
	"net"
)

// Bounds of what an IMAP server may send (the harness never trusts the
// target). A response is a line, interrupted by literals: "{N}" at the end
// of a line announces N octets that follow it (RFC 3501 §4.3; "~{N}",
// RFC 3516 §4.2).
const (
	// IMAPLineMax bounds a response's octets outside its literals: a long
	// SEARCH or FETCH FLAGS line is some kilobytes (RFC 7162 §4 asks
	// clients to accept 8192-octet lines).
	IMAPLineMax = 1 << 20
	// IMAPLiteralMin is the smallest literal bound: a message's size is
	// bounded by the target's max_message_bytes (WithMaxMessage), twice
	// it plus 1 MiB for the envelope that wraps it, and never below this.
	IMAPLiteralMin = 128 << 20
	// IMAPCommandMin is the smallest bound of an answer to one command
	// (FETCH of a whole INBOX): never below this, and 8 literals.
	IMAPCommandMin = 1 << 30
)

type maxMessageKey struct{}

// WithMaxMessage sets the largest message (octets) the target declares
// (max_message_bytes): an IMAP literal of the probe calls made with ctx may
// be twice as large plus 1 MiB, and at least IMAPLiteralMin.
func WithMaxMessage(ctx context.Context, n int64) context.Context {
	return context.WithValue(ctx, maxMessageKey{}, n)
}

// literalMax is the bound of one IMAP literal under ctx.
func literalMax(ctx context.Context) int64 {
	n, _ := ctx.Value(maxMessageKey{}).(int64)
	if n <= 0 || n > 1<<40 {
		return IMAPLiteralMin
	}
	return max(IMAPLiteralMin, 2*n+1<<20)
}

// boundIMAP bounds an IMAP server's stream on conn, which must carry the
// IMAP text itself (above TLS): lines, literals, and answers.
func boundIMAP(conn net.Conn, literal int64) *boundedConn {
	s := &imapScanner{lineMax: IMAPLineMax, literalMax: literal, responseMax: literal + IMAPLineMax}
	return &boundedConn{Conn: conn, max: max(IMAPCommandMin, 8*literal), what: "in answer to one command",
		why: "more than a whole mailbox; not an IMAP server?", scan: s.scan}
}

// imapScanner follows a server's responses octet by octet and fails on a
// line, a literal or a response over its bound. It parses no more than
// where literals start and end; imapclient parses the rest.
type imapScanner struct {
	lineMax, literalMax, responseMax int64

	text    int64 // octets of the current response outside literals
	total   int64 // octets of the current response, literals included
	literal int64 // octets of the current literal still to come
	// the end of the line read so far: "{", digits, "+", "}", CR
	state  litState
	digits int64 // the number after "{", saturated above literalMax
}

type litState uint8

const (
	litNone   litState = iota
	litOpen            // "{" and maybe digits
	litDigits          // "{" and at least one digit
	litPlus            // "{N+"
	litClose           // "{N}" or "{N+}"
	litCR              // "{N}" CR
)

// scan checks the next octets of the stream.
func (s *imapScanner) scan(p []byte) error {
	for len(p) > 0 {
		if s.literal > 0 {
			k := min(s.literal, int64(len(p)))
			s.literal -= k
			p = p[k:]
			continue
		}
		b := p[0]
		p = p[1:]
		s.text++
		s.total++
		if s.text > s.lineMax {
			return fmt.Errorf("%w: a response line over %s (IMAP lines are some kilobytes, RFC 7162 §4; not an IMAP server?)",
				ErrOverBound, size(s.lineMax))
		}
		if b == '\n' {
			if err := s.endLine(); err != nil {
				return err
			}
			continue
		}
		s.next(b)
	}
	return nil
}

// next moves the line-end state over one octet.
func (s *imapScanner) next(b byte) {
	switch {
	case b == '{':
		s.state, s.digits = litOpen, 0
	case b >= '0' && b <= '9' && (s.state == litOpen || s.state == litDigits):
		s.state = litDigits
		if s.digits <= s.literalMax {
			s.digits = s.digits*10 + int64(b-'0')
		}
	case b == '+' && s.state == litDigits:
		s.state = litPlus
	case b == '}' && (s.state == litDigits || s.state == litPlus):
		s.state = litClose
	case b == '\r' && s.state == litClose:
		s.state = litCR
	default:
		s.state = litNone
	}
}

// endLine: a line that ends with "{N}" goes on after N octets of literal;
// any other ends the response.
func (s *imapScanner) endLine() error {
	lit := s.state == litClose || s.state == litCR
	s.state = litNone
	if !lit {
		s.text, s.total = 0, 0
		return nil
	}
	switch {
	case s.digits > s.literalMax:
		return fmt.Errorf("%w: a literal over %s (the largest message the target declares, twice, plus 1 MiB; RFC 3501 §4.3)",
			ErrOverBound, size(s.literalMax))
	case s.total+s.digits > s.responseMax:
		return fmt.Errorf("%w: a response over %s (one message and its lines)", ErrOverBound, size(s.responseMax))
	}
	s.literal = s.digits
	s.total += s.digits
	return nil
}
