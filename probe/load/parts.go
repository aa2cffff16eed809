package load

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime/quotedprintable"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"

	"github.com/pecspec/pecspec/pec"
)

// fetchParts completes arrivals: the daticert.xml of each (one UID FETCH per
// distinct part path) and the whole message of those Full asks for.
func (w *Watcher) fetchParts(arrivals []*Arrival, parts map[uint32]partRef) error {
	byPath := map[string][]uint32{}
	refs := map[string]partRef{}
	for uid, p := range parts {
		key := fmt.Sprint(p.path, p.encoding)
		byPath[key] = append(byPath[key], uid)
		refs[key] = p
	}
	byUID := map[uint32]*Arrival{}
	for _, a := range arrivals {
		byUID[a.UID] = a
	}
	if w.opts.Daticert {
		for key, uids := range byPath {
			if err := w.fetchDaticert(uids, refs[key], byUID); err != nil {
				return err
			}
		}
	}
	var full []uint32
	for _, a := range arrivals {
		if w.opts.Full != nil && a.Size <= w.opts.MaxFull && w.opts.Full(a.Header) {
			full = append(full, a.UID)
		}
	}
	if len(full) == 0 {
		return nil
	}
	sec := &imap.FetchItemBodySection{Peek: true}
	msgs, err := w.c.Fetch(uidSet(full), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{sec}}).Collect()
	if err != nil {
		return fmt.Errorf("fetch messages: %w", err)
	}
	for _, m := range msgs {
		if a := byUID[uint32(m.UID)]; a != nil {
			a.Raw = m.FindBodySection(sec)
		}
	}
	return nil
}

func uidSet(uids []uint32) imap.UIDSet {
	var set imap.UIDSet
	for _, u := range uids {
		set.AddNum(imap.UID(u))
	}
	return set
}

func (w *Watcher) fetchDaticert(uids []uint32, ref partRef, byUID map[uint32]*Arrival) error {
	sec := &imap.FetchItemBodySection{Part: ref.path, Peek: true}
	msgs, err := w.c.Fetch(uidSet(uids), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{sec}}).Collect()
	if err != nil {
		return fmt.Errorf("fetch daticert.xml: %w", err)
	}
	for _, m := range msgs {
		a := byUID[uint32(m.UID)]
		if a == nil {
			continue
		}
		a.Daticert, a.DaticertErr = pec.ParseDaticert(decodePart(m.FindBodySection(sec), ref.encoding))
	}
	return nil
}

// decodePart undoes a part's Content-Transfer-Encoding (RFC 2045 §6).
func decodePart(b []byte, encoding string) io.Reader {
	switch strings.ToLower(encoding) {
	case "base64":
		clean := slices.DeleteFunc(slices.Clone(b), func(c byte) bool { return c == '\r' || c == '\n' || c == ' ' || c == '\t' })
		return base64.NewDecoder(base64.StdEncoding, bytes.NewReader(clean))
	case "quoted-printable":
		return quotedprintable.NewReader(bytes.NewReader(b))
	}
	return bytes.NewReader(b)
}
