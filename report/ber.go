package report

import "fmt"

// berScanner counts the elements of a BER stream (X.690 §8.1: identifier,
// length, contents) as they arrive, without keeping them: the contents of
// a constructed element are more elements, those of a primitive one are
// skipped. LDAP uses the definite length form only (RFC 4511 §5.1).
type berScanner struct {
	max      int // elements
	elements int
	state    berState
	need     int64 // length octets still to read, or contents octets to skip
	length   int64
	cons     bool // the element is constructed
}

type berState uint8

const (
	berTag     berState = iota // the identifier's first octet
	berTagMore                 // high tag number octets (X.690 §8.1.2.4)
	berLen                     // the length's first octet
	berLenMore                 // long form length octets
	berSkip                    // a primitive's contents
)

// scan follows p; over max elements, or a length LDAP does not use, is an
// error.
func (s *berScanner) scan(p []byte) error {
	for len(p) > 0 {
		if s.state == berSkip {
			k := min(s.need, int64(len(p)))
			s.need -= k
			p = p[k:]
			if s.need == 0 {
				s.state = berTag
			}
			continue
		}
		b := p[0]
		p = p[1:]
		if err := s.next(b); err != nil {
			return err
		}
	}
	return nil
}

// next moves over one octet of an identifier or a length.
func (s *berScanner) next(b byte) error {
	switch s.state {
	case berTag:
		if s.elements++; s.elements > s.max {
			return fmt.Errorf("%w (over %d BER elements)", errIndexTooLarge, s.max)
		}
		s.cons, s.state = b&0x20 != 0, berLen
		if b&0x1f == 0x1f {
			s.state = berTagMore
		}
	case berTagMore:
		if b&0x80 == 0 {
			s.state = berLen
		}
	case berLen:
		switch {
		case b == 0x80 || b == 0xff:
			return fmt.Errorf("%w: a BER length LDAP does not use (X.690 §8.1.3; RFC 4511 §5.1)", errIndexTooLarge)
		case b&0x80 == 0:
			s.contents(int64(b))
		case b&0x7f > 4:
			return fmt.Errorf("%w: a BER length of %d octets", errIndexTooLarge, b&0x7f)
		default:
			s.need, s.length, s.state = int64(b&0x7f), 0, berLenMore
		}
	case berLenMore:
		s.length = s.length<<8 | int64(b)
		if s.need--; s.need == 0 {
			s.contents(s.length)
		}
	}
	return nil
}

// contents starts the contents of n octets: more elements, or skipped.
func (s *berScanner) contents(n int64) {
	s.state = berTag
	if !s.cons && n > 0 {
		s.state, s.need = berSkip, n
	}
}
