package report

import (
	"errors"
	"testing"
)

// TestBERScanner: the scanner counts every element of an LDAP message,
// nested or not, whatever its length form and however the octets arrive,
// and refuses the lengths LDAP does not use.
func TestBERScanner(t *testing.T) {
	str := func(v string) []byte { return tlv(0x04, []byte(v)) }
	var vals [][]byte
	for range 300 { // a long value list: a long-form length
		vals = append(vals, str("pec.example.test"))
	}
	attr := tlv(0x30, str("managedDomains"), tlv(0x31, vals...))
	msg := tlv(0x30, tlv(0x02, []byte{1}), tlv(0x64, str("providerName=Alpha,o=postacert"), tlv(0x30, attr)))
	const elements = 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 300
	for _, chunk := range []int{len(msg), 1, 7} {
		s := berScanner{max: elements}
		for i := 0; i < len(msg); i += chunk {
			if err := s.scan(msg[i:min(i+chunk, len(msg))]); err != nil {
				t.Fatalf("chunks of %d: %v", chunk, err)
			}
		}
		if s.elements != elements || s.state != berTag {
			t.Errorf("chunks of %d: %d elements, state %d; want %d at a message's end", chunk, s.elements, s.state, elements)
		}
		if err := s.scan(msg[:1]); !errors.Is(err, errIndexTooLarge) {
			t.Errorf("one element over the bound: %v", err)
		}
	}
	for _, bad := range [][]byte{{0x30, 0x80}, {0x04, 0x85, 1, 2, 3, 4, 5}, {0x04, 0xff}} {
		s := berScanner{max: 10}
		if err := s.scan(bad); err == nil {
			t.Errorf("% x: accepted", bad)
		}
	}
}

// FuzzBERScanner: whatever a server sends, the scanner never panics and
// its answer does not depend on where the stream is cut.
func FuzzBERScanner(f *testing.F) {
	f.Add([]byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x04, 0x01, 'x'}, uint8(3))
	f.Add([]byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x04, 0x00, 0x1f, 0x81, 0x01, 0x00}, uint8(5))
	f.Fuzz(func(t *testing.T, in []byte, cut uint8) {
		whole := berScanner{max: 8}
		werr := whole.scan(in)
		k := min(int(cut), len(in))
		split := berScanner{max: 8}
		serr := split.scan(in[:k])
		if serr == nil {
			serr = split.scan(in[k:])
		}
		if (werr == nil) != (serr == nil) || (werr == nil && whole != split) {
			t.Fatalf("whole: %v %+v; cut at %d: %v %+v", werr, whole, k, serr, split)
		}
	})
}

// tlv encodes one BER element (X.690 §8.1) of the contents given, with a
// short or long form length.
func tlv(tag byte, contents ...[]byte) []byte {
	var c []byte
	for _, x := range contents {
		c = append(c, x...)
	}
	out := []byte{tag}
	switch n := len(c); {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	default:
		out = append(out, 0x82, byte(n>>8), byte(n))
	}
	return append(out, c...)
}
