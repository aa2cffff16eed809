package mailbox

import (
	"bufio"
	"errors"
	"io"
	"os"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-message/textproto"
)

// numSet is set with "$" (RFC 5182) replaced by the saved search result.
func (se *session) numSet(set imap.NumSet) imap.NumSet {
	if imap.IsSearchRes(set) {
		return append(imap.UIDSet{}, se.saved...)
	}
	return set
}

// Fetch answers FETCH and UID FETCH (RFC 9051 §6.4.5, §6.4.9). Index data
// (UID, FLAGS, INTERNALDATE, RFC822.SIZE) comes from memory; everything else
// from the message file, opened per message: BODY[] and its partials are
// streamed from the file to the connection, other sections go through
// go-imap's Extract helpers over a reader of the file. A body fetch that is
// not PEEK sets \Seen first (RFC 3501 §6.4.5) and reports the new FLAGS. A
// message whose file is gone underneath is left out.
func (se *session) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	ts := se.box.targets(se.view, se.numSet(numSet))
	seen := map[imap.UID][]imap.Flag{}
	if !se.readOnly && setsSeen(options) {
		uids := make([]imap.UID, len(ts))
		for i, t := range ts {
			uids[i] = t.msg.uid
		}
		var err error
		if seen, err = se.box.markSeen(se.view, uids); err != nil {
			se.s.log.Error("fetch: set \\Seen", "role", "mailbox", "rcpt", se.addr, "err", err)
		}
	}
	for _, t := range ts {
		flags, changed := seen[t.msg.uid]
		if !changed {
			flags = t.msg.flagList()
		}
		if err := se.fetchOne(w, t, options, flags, changed); err != nil {
			return err
		}
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

// needsFile reports whether options need the message's bytes.
func needsFile(o *imap.FetchOptions) bool {
	return o.Envelope || o.BodyStructure != nil || len(o.BodySection) > 0 || len(o.BinarySection) > 0 ||
		len(o.BinarySectionSize) > 0
}

// fetchOne writes the FETCH response of one message.
func (se *session) fetchOne(w *imapserver.FetchWriter, t target, o *imap.FetchOptions, flags []imap.Flag, changed bool) error {
	var f *os.File
	var size int64
	if needsFile(o) {
		var err error
		if f, err = se.box.open(t.msg.uid); errors.Is(err, errGone) {
			return nil
		} else if err != nil {
			se.s.log.Error("fetch: open", "role", "mailbox", "rcpt", se.addr, "uid", t.msg.uid, "err", err)
			return nil
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		size = st.Size()
	}
	whole := func() io.Reader { return io.NewSectionReader(f, 0, size) }
	rw := w.CreateMessage(t.seq)
	if o.UID {
		rw.WriteUID(t.msg.uid)
	}
	if o.Flags || changed {
		rw.WriteFlags(flags)
	}
	if o.InternalDate {
		rw.WriteInternalDate(t.msg.date)
	}
	if o.RFC822Size {
		rw.WriteRFC822Size(t.msg.size)
	}
	if o.Envelope {
		h, _ := textproto.ReadHeader(bufio.NewReader(whole()))
		rw.WriteEnvelope(imapserver.ExtractEnvelope(h))
	}
	if o.BodyStructure != nil {
		rw.WriteBodyStructure(writable(imapserver.ExtractBodyStructure(whole())))
	}
	for _, s := range o.BodySection {
		if err := writeBodySection(rw, s, f, size); err != nil {
			return err
		}
	}
	for _, s := range o.BinarySection {
		b := imapserver.ExtractBinarySection(whole(), s)
		if err := writeLiteral(rw.WriteBinarySection(s, int64(len(b))), b); err != nil {
			return err
		}
	}
	for _, s := range o.BinarySectionSize {
		rw.WriteBinarySectionSize(s, imapserver.ExtractBinarySectionSize(whole(), s))
	}
	return rw.Close()
}

// writeBodySection writes one BODY[section]<partial>. The whole message and
// its partials are copied from the file into the literal as they are read
// (a 32 KiB buffer, whatever the message's size); a part, header or text
// section is extracted into memory first, its size being needed up front.
func writeBodySection(rw *imapserver.FetchResponseWriter, s *imap.FetchItemBodySection, f *os.File, size int64) error {
	if len(s.Part) > 0 || s.Specifier != imap.PartSpecifierNone {
		b := imapserver.ExtractBodySection(io.NewSectionReader(f, 0, size), s)
		return writeLiteral(rw.WriteBodySection(s, int64(len(b))), b)
	}
	off, n := int64(0), size
	if p := s.Partial; p != nil {
		off = min(p.Offset, size)
		n = min(p.Size, size-off)
	}
	wc := rw.WriteBodySection(s, n)
	copied, err := io.Copy(wc, io.NewSectionReader(f, off, n))
	if err == nil && copied != n {
		err = io.ErrUnexpectedEOF // the literal's announced size cannot be met
	}
	return errors.Join(err, wc.Close())
}

// writeLiteral writes b into a literal of len(b) bytes and closes it.
func writeLiteral(wc io.WriteCloser, b []byte) error {
	_, err := wc.Write(b)
	return errors.Join(err, wc.Close())
}

// writable makes a body structure go-imap can write: a multipart without
// parts (a malformed message) would make it panic, so it is given one empty
// text/plain part.
func writable(bs imap.BodyStructure) imap.BodyStructure {
	switch bs := bs.(type) {
	case *imap.BodyStructureMultiPart:
		if len(bs.Children) == 0 {
			bs.Children = []imap.BodyStructure{&imap.BodyStructureSinglePart{Type: "text", Subtype: "plain",
				Text: &imap.BodyStructureText{}, Extended: &imap.BodyStructureSinglePartExt{}}}
		}
		for i, c := range bs.Children {
			bs.Children[i] = writable(c)
		}
	case *imap.BodyStructureSinglePart:
		if m := bs.MessageRFC822; m != nil {
			m.BodyStructure = writable(m.BodyStructure)
		}
	}
	return bs
}

// Store answers STORE and UID STORE (RFC 9051 §6.4.6): the flags change in
// the index and, for system flags, in the file's Maildir info (renamed into
// cur/, durably); other sessions get FETCH FLAGS through the tracker; this
// one gets them here unless .SILENT.
func (se *session) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, options *imap.StoreOptions) error {
	if se.readOnly {
		return no(imap.ResponseCodeCannot, "INBOX is selected read-only")
	}
	if options != nil && options.UnchangedSince != 0 {
		return no(imap.ResponseCodeCannot, "CONDSTORE is not supported")
	}
	_, uidKind := numSet.(imap.UIDSet)
	ts, err := se.box.setFlags(se.view, se.numSet(numSet), flags)
	if !flags.Silent {
		for _, t := range ts {
			rw := w.CreateMessage(t.seq)
			if uidKind {
				rw.WriteUID(t.msg.uid)
			}
			rw.WriteFlags(t.msg.flagList())
			if werr := rw.Close(); werr != nil {
				return werr
			}
		}
	}
	if err != nil {
		se.s.log.Error("store flags", "role", "mailbox", "rcpt", se.addr, "err", err)
		return no(imap.ResponseCodeServerBug, "flags not all stored")
	}
	return nil
}
