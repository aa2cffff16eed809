package mailbox

import (
	"errors"
	"os"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// msgInfo is what FETCH learns of a message file once and keeps in its
// index entry: where the header ends, the envelope, and — once a part, a
// BINARY item or the structure is asked for — the MIME tree (offsets and
// the fields BODYSTRUCTURE reports, no message bytes). It never changes
// once made: a Maildir file is only renamed, never rewritten.
type msgInfo struct {
	hdrEnd int64
	env    *imap.Envelope
	root   *mimePart // nil until the MIME walk
}

// info returns the msgInfo of uid, from its index entry or read from f now
// (the header only, or the whole MIME walk when full) and kept there.
func (b *box) info(uid imap.UID, f *os.File, size int64, full bool) (*msgInfo, error) {
	b.mu.Lock()
	var in *msgInfo
	if m := b.findLocked(uid); m != nil {
		in = m.info
	}
	b.mu.Unlock()
	if in != nil && (!full || in.root != nil) {
		return in, nil
	}
	if full {
		root, err := walkMIME(f, size)
		if err != nil {
			return nil, err
		}
		in = &msgInfo{hdrEnd: root.body, env: root.env, root: root}
	} else {
		w := newWalker(f, size)
		raw, end, _ := w.header()
		h, err := parseHeader(raw), w.err
		w.done()
		if err != nil {
			return nil, err
		}
		in = &msgInfo{hdrEnd: end, env: imapserver.ExtractEnvelope(h)}
	}
	b.mu.Lock()
	if m := b.findLocked(uid); m != nil {
		m.info = in
	}
	b.mu.Unlock()
	return in, nil
}

// Fetch answers FETCH and UID FETCH (RFC 9051 §6.4.5, §6.4.9). Index data
// (UID, FLAGS, INTERNALDATE, RFC822.SIZE) comes from memory; ENVELOPE and
// BODYSTRUCTURE from the msgInfo kept in the index; every section is
// streamed from the message file at its offsets, BODY[] and its parts as
// they are on disk, BINARY decoded on the way (imap_section.go,
// imap_binary.go). A body fetch that is not PEEK sets \Seen on each message
// once its body has been written, and reports FLAGS at the end of that
// message's response, so a FETCH cut short marks only what it sent; the
// renames are fsynced once, at the end. A message whose file is gone
// underneath is left out. A file that cannot be read in full is padded to
// its announced size and the FETCH ends in NO.
func (se *session) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, o *imap.FetchOptions) error {
	fx := &fetcher{se: se, v: se.view, o: o, seen: !se.readOnly && setsSeen(o)}
	err := fx.all(w, se.box.targets(se.view, se.numSet(numSet)))
	if fx.renamed {
		if serr := se.box.store.syncDirs(se.addr); serr != nil {
			se.s.log.Error("fetch: sync \\Seen", "role", "mailbox", "rcpt", se.addr, "err", serr)
		}
	}
	return err
}

// fetcher is one FETCH command.
type fetcher struct {
	se      *session
	v       *view
	o       *imap.FetchOptions
	seen    bool // the fetch sets \Seen
	renamed bool // a \Seen rename to fsync
	short   bool // a file could not be read in full
}

func (fx *fetcher) all(w *imapserver.FetchWriter, ts []target) error {
	for i := range ts {
		if err := fx.one(w, &ts[i]); err != nil {
			return err
		}
	}
	if fx.short {
		return no(imap.ResponseCodeServerBug, "some message files could not be read in full")
	}
	return nil
}

// setsSeen reports whether options fetch a body section without PEEK.
func setsSeen(o *imap.FetchOptions) bool {
	for _, s := range o.BodySection {
		if !s.Peek {
			return true
		}
	}
	for _, s := range o.BinarySection {
		if !s.Peek {
			return true
		}
	}
	return false
}

// needs reports whether options need the message file, its header (the
// header end and envelope) or its full MIME walk.
func needs(o *imap.FetchOptions) (file, header, full bool) {
	full = o.BodyStructure != nil || len(o.BinarySection) > 0 || len(o.BinarySectionSize) > 0
	header = o.Envelope
	for _, s := range o.BodySection {
		full = full || len(s.Part) > 0
		header = header || s.Specifier != imap.PartSpecifierNone
	}
	return full || header || len(o.BodySection) > 0, header, full
}

// one writes the FETCH response of one message.
func (fx *fetcher) one(w *imapserver.FetchWriter, t *target) error {
	o, log := fx.o, fx.se.s.log
	file, header, full := needs(o)
	var f *os.File
	var in *msgInfo
	if file {
		var err error
		if f, err = fx.se.box.open(t.msg.uid); errors.Is(err, errGone) {
			return nil
		} else if err != nil {
			log.Error("fetch: open", "role", "mailbox", "rcpt", fx.se.addr, "uid", t.msg.uid, "err", err)
			return nil
		}
		defer f.Close()
		if header || full {
			if in, err = fx.se.box.info(t.msg.uid, f, t.msg.size, full); err != nil {
				log.Error("fetch: read", "role", "mailbox", "rcpt", fx.se.addr, "uid", t.msg.uid, "err", err)
				return nil
			}
		}
		if full {
			if err := checkBinary(in, o); err != nil {
				return err
			}
		}
	}
	willSee := fx.seen && t.msg.flags&flagSeen == 0
	rw := w.CreateMessage(t.seq)
	if o.UID {
		rw.WriteUID(t.msg.uid)
	}
	if o.Flags && !willSee {
		rw.WriteFlags(t.msg.flagList())
	}
	if o.InternalDate {
		rw.WriteInternalDate(t.msg.date)
	}
	if o.RFC822Size {
		rw.WriteRFC822Size(t.msg.size)
	}
	if o.Envelope {
		rw.WriteEnvelope(in.env)
	}
	if o.BodyStructure != nil {
		rw.WriteBodyStructure(in.root.structure())
	}
	read, werr := fx.sections(rw, f, t, in)
	if werr != nil {
		rw.Close()
		return werr
	}
	if read != nil {
		fx.short = true
		log.Error("fetch: read", "role", "mailbox", "rcpt", fx.se.addr, "uid", t.msg.uid, "err", read)
	}
	if willSee {
		flags := t.msg.flagList()
		if read == nil {
			fx.markSeen(t, &flags)
		}
		rw.WriteFlags(flags)
	}
	return rw.Close()
}

// sections writes the body and binary items of one message.
func (fx *fetcher) sections(rw *imapserver.FetchResponseWriter, f *os.File, t *target, in *msgInfo) (read, werr error) {
	for _, s := range fx.o.BodySection {
		var sp span
		if in != nil {
			sp = bodySpan(s, in, t.msg.size)
		} else {
			sp = span{end: t.msg.size} // BODY[]: no header needed
		}
		rerr, werr := writeBodySection(rw, s, f, sp)
		if werr != nil {
			return read, werr
		}
		read = errors.Join(read, rerr)
	}
	for _, s := range fx.o.BinarySection {
		rerr, werr := writeBinarySection(rw, s, f, in)
		if werr != nil {
			return read, werr
		}
		read = errors.Join(read, rerr)
	}
	for _, s := range fx.o.BinarySectionSize {
		n, rerr := binarySize(f, in, s.Part)
		rw.WriteBinarySectionSize(s, uint32(min(n, 1<<32-1)))
		read = errors.Join(read, rerr)
	}
	return read, nil
}

// markSeen sets \Seen on the message just sent and updates flags.
func (fx *fetcher) markSeen(t *target, flags *[]imap.Flag) {
	got, renamed, err := fx.se.box.markSeen(fx.v, t.msg.uid)
	fx.renamed = fx.renamed || renamed
	if err != nil {
		fx.se.s.log.Error("fetch: set \\Seen", "role", "mailbox", "rcpt", fx.se.addr, "uid", t.msg.uid, "err", err)
	}
	if got != nil {
		*flags = got
	}
}
