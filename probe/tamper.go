package probe

import (
	"bytes"
	"errors"
	"fmt"
)

// ErrTamper is returned when a message has nothing Tamper can alter.
var ErrTamper = errors.New("probe: tamper")

// Tamper returns a copy of a signed PEC message (an envelope, RFC 6109
// §3.1.5) with one byte of its signed content changed, as an alteration in
// transit would: the first letter of the second Subject field — the outer
// header holds the first, the original message inside the signed part the
// second — changes case, so the signature no longer verifies (SIG-04 at the
// receiver) while the message stays well formed. A Return-Path the
// receiving mailbox added before it (RFC 5321 §4.4) is dropped: the copy is
// sent again as the sending provider sent it.
func Tamper(raw []byte) ([]byte, error) {
	out := dropReturnPath(raw)
	first := bytes.Index(out, []byte("\nSubject: "))
	if first < 0 {
		return nil, fmt.Errorf("%w: no Subject field", ErrTamper)
	}
	second := bytes.Index(out[first+1:], []byte("\nSubject: "))
	if second < 0 {
		return nil, fmt.Errorf("%w: no Subject inside the signed part", ErrTamper)
	}
	i := first + 1 + second + len("\nSubject: ")
	if i >= len(out) {
		return nil, fmt.Errorf("%w: empty Subject inside the signed part", ErrTamper)
	}
	out[i] ^= 0x20
	return out, nil
}

// dropReturnPath copies raw without Return-Path lines at its top.
func dropReturnPath(raw []byte) []byte {
	rest := raw
	for bytes.HasPrefix(bytes.ToLower(rest), []byte("return-path:")) {
		nl := bytes.IndexByte(rest, '\n')
		if nl < 0 {
			break
		}
		rest = rest[nl+1:]
	}
	return append([]byte(nil), rest...)
}
