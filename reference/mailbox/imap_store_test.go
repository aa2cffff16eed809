package mailbox

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TestIMAPExpungeAndRestart: STORE writes flags into the Maildir info,
// EXPUNGE unlinks the file, and a restarted server shows what is on disk:
// the flags from the file names, the same UIDs under the same UIDVALIDITY
// (the uid list), keywords gone (kept in memory only).
func TestIMAPExpungeAndRestart(t *testing.T) {
	lab := startIMAP(t)
	b1, b2, b3 := lab.deliver(sample("one", "1")), lab.deliver(sample("two", "2")), lab.deliver(sample("three", "3"))
	c, sel := lab.open(nil)
	st := func(set imap.NumSet, op imap.StoreFlagsOp, flags ...imap.Flag) {
		t.Helper()
		if err := c.Store(set, &imap.StoreFlags{Op: op, Silent: true, Flags: flags}, nil).Close(); err != nil {
			t.Fatalf("STORE %v: %v", flags, err)
		}
	}
	st(imap.UIDSetNum(3), imap.StoreFlagsAdd, imap.FlagFlagged, imap.FlagSeen, "$Label1")
	st(imap.SeqSetNum(2), imap.StoreFlagsAdd, imap.FlagDeleted)
	if got := lab.file(b2); got != "cur/"+b2+":2,T" {
		t.Errorf("\\Deleted message file %q, want cur/%s:2,T", got, b2)
	}
	if got := lab.file(b3); got != "cur/"+b3+":2,FS" {
		t.Errorf("flagged message file %q, want cur/%s:2,FS", got, b3)
	}
	expunged, err := c.Expunge().Collect()
	if err != nil || !slices.Equal(expunged, []uint32{2}) {
		t.Fatalf("EXPUNGE = %v, %v; want [2]", expunged, err)
	}
	if _, err := os.Stat(filepath.Join(lab.root, alice, "cur", b2+":2,T")); !os.IsNotExist(err) {
		t.Errorf("expunged file still on disk: %v", err)
	}
	if n := c.Mailbox().NumMessages; n != 2 {
		t.Errorf("EXISTS after EXPUNGE = %d, want 2", n)
	}
	left := fetch(t, c, imap.SeqSetNum(1, 2), &imap.FetchOptions{UID: true, Flags: true})
	if got := uidsOf(left); !slices.Equal(got, []imap.UID{1, 3}) {
		t.Errorf("UIDs after EXPUNGE = %v, want 1 3", got)
	}
	if !slices.Contains(left[1].Flags, "$Label1") {
		t.Errorf("keyword not kept: %v", left[1].Flags)
	}
	c.Close()

	lab.restart()
	c2, sel2 := lab.open(nil)
	if sel2.NumMessages != 2 || sel2.UIDValidity != sel.UIDValidity || sel2.UIDNext != 4 {
		t.Fatalf("after restart: %d messages, UIDVALIDITY %d (was %d), UIDNEXT %d; want 2, the same, 4",
			sel2.NumMessages, sel2.UIDValidity, sel.UIDValidity, sel2.UIDNext)
	}
	after := fetch(t, c2, imap.SeqSetNum(1, 2), &imap.FetchOptions{UID: true, Flags: true, Envelope: true})
	if got := uidsOf(after); !slices.Equal(got, []imap.UID{1, 3}) {
		t.Errorf("UIDs after restart = %v, want 1 3 (kept by the uid list)", got)
	}
	if after[0].Envelope.Subject != "one" || len(after[0].Flags) != 0 {
		t.Errorf("message 1 after restart: %q %v", after[0].Envelope.Subject, after[0].Flags)
	}
	if f := after[1].Flags; after[1].Envelope.Subject != "three" || !slices.Equal(f, []imap.Flag{imap.FlagSeen, imap.FlagFlagged}) &&
		!slices.Equal(f, []imap.Flag{imap.FlagFlagged, imap.FlagSeen}) {
		t.Errorf("message 2 after restart: %q %v, want three with \\Seen \\Flagged only", after[1].Envelope.Subject, f)
	}
	if got := lab.file(b1); got != "new/"+b1 {
		t.Errorf("untouched message file %q, want new/%s", got, b1)
	}
}

// TestIMAPStoreVariants: FLAGS replaces, -FLAGS removes, UID STORE answers
// with UIDs, .SILENT answers nothing, and the Maildir follows each change.
func TestIMAPStoreVariants(t *testing.T) {
	lab := startIMAP(t)
	base := lab.deliver(sample("s", "s"))
	c, _ := lab.open(nil)
	for _, tc := range []struct {
		op    imap.StoreFlagsOp
		flags []imap.Flag
		want  []imap.Flag
		file  string
	}{
		{imap.StoreFlagsSet, []imap.Flag{imap.FlagDraft, imap.FlagAnswered}, []imap.Flag{imap.FlagDraft, imap.FlagAnswered}, ":2,DR"},
		{imap.StoreFlagsAdd, []imap.Flag{imap.FlagSeen}, []imap.Flag{imap.FlagDraft, imap.FlagAnswered, imap.FlagSeen}, ":2,DRS"},
		{imap.StoreFlagsDel, []imap.Flag{imap.FlagDraft, imap.FlagAnswered}, []imap.Flag{imap.FlagSeen}, ":2,S"},
		{imap.StoreFlagsSet, nil, nil, ":2,"},
	} {
		got, err := c.Store(imap.UIDSetNum(1), &imap.StoreFlags{Op: tc.op, Flags: tc.flags}, nil).Collect()
		if err != nil || len(got) != 1 || got[0].UID != 1 || !slices.Equal(got[0].Flags, tc.want) {
			t.Errorf("UID STORE %v %v = %+v, %v; want UID 1 FLAGS %v", tc.op, tc.flags, got, err, tc.want)
		}
		if f := lab.file(base); f != "cur/"+base+tc.file {
			t.Errorf("after STORE %v %v: file %q, want cur/%s%s", tc.op, tc.flags, f, base, tc.file)
		}
	}
	got, err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
		Flags: []imap.Flag{imap.FlagFlagged}}, nil).Collect()
	if err != nil || len(got) != 0 {
		t.Errorf("STORE .SILENT answered %+v, %v", got, err)
	}
}

// TestIMAPTwoSessions: a STORE and an EXPUNGE in one session reach another
// session of the same user at its next command, with its own numbers.
func TestIMAPTwoSessions(t *testing.T) {
	lab := startIMAP(t)
	lab.deliver(sample("a", "a"))
	lab.deliver(sample("b", "b"))
	c1, _ := lab.open(nil)
	u, h := newUpdates()
	c2, _ := lab.open(h)
	if err := c1.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
		Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := c2.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	if m := await(t, u.flags, "FETCH FLAGS in session 2"); m.SeqNum != 2 || !slices.Equal(m.Flags, []imap.Flag{imap.FlagFlagged}) {
		t.Errorf("session 2 got FETCH %+v; want 2 FLAGS (\\Flagged)", m)
	}
	if err := c1.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
		Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := c1.Expunge().Close(); err != nil {
		t.Fatal(err)
	}
	if err := c2.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	if seq := await(t, u.expunge, "EXPUNGE in session 2"); seq != 1 {
		t.Errorf("session 2 EXPUNGE %d, want 1", seq)
	}
	left := fetch(t, c2, imap.SeqSetNum(1), &imap.FetchOptions{UID: true, Flags: true})
	if len(left) != 1 || left[0].UID != 2 {
		t.Errorf("session 2 after EXPUNGE: %+v", left)
	}
}

// TestIMAPAppend: APPEND writes a Maildir file with the flags and internal
// date given, another session sees it; CREATE, DELETE, RENAME, COPY, MOVE
// and other mailboxes answer NO; LIST and STATUS show INBOX.
func TestIMAPAppend(t *testing.T) {
	lab := startIMAP(t)
	lab.deliver(sample("first", "x"))
	u, h := newUpdates()
	watcher, _ := lab.open(h)
	c, _ := lab.open(nil)
	msg := []byte(sample("appended", "by the client"))
	date := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	cmd := c.Append("INBOX", int64(len(msg)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagSeen}, Time: date})
	cmd.Write(msg)
	cmd.Close()
	res, err := cmd.Wait()
	if err != nil || res.UID != 2 {
		t.Fatalf("APPEND = %+v, %v; want UID 2", res, err)
	}
	names, _ := lab.store.List(alice)
	if len(names) != 2 || !strings.HasPrefix(names[1], "cur/") || !strings.HasSuffix(names[1], ":2,S") ||
		!bytes.Equal(lab.read(names[1]), msg) {
		t.Fatalf("Maildir after APPEND: %v", names)
	}
	if st, _ := os.Stat(filepath.Join(lab.root, alice, names[1])); !st.ModTime().Equal(date) {
		t.Errorf("appended file mtime %v, want %v", st.ModTime(), date)
	}
	if err := watcher.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	if n := await(t, u.exists, "EXISTS for the APPEND"); n != 2 {
		t.Errorf("other session EXISTS %d, want 2", n)
	}
	got := fetch(t, watcher, imap.UIDSetNum(res.UID), &imap.FetchOptions{Flags: true, InternalDate: true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	if len(got) != 1 || !got[0].InternalDate.Equal(date) || !slices.Equal(got[0].Flags, []imap.Flag{imap.FlagSeen}) ||
		!bytes.Equal(got[0].FindBodySection(&imap.FetchItemBodySection{}), msg) {
		t.Errorf("other session FETCH of the APPEND: %+v", got)
	}

	for _, tc := range []struct {
		what string
		err  func() error
	}{
		{"COPY to INBOX", func() error { return copyErr(c.Copy(imap.SeqSetNum(1), "INBOX").Wait()) }},
		{"MOVE to INBOX", func() error { return moveErr(c.Move(imap.SeqSetNum(1), "INBOX").Wait()) }},
		{"CREATE", func() error { return c.Create("Archive", nil).Wait() }},
		{"DELETE INBOX", func() error { return c.Delete("INBOX").Wait() }},
		{"RENAME", func() error { return c.Rename("INBOX", "Old", nil).Wait() }},
		{"APPEND other", func() error { return appendErr(c, "Archive", msg) }},
		{"SELECT other", func() error { return selectErr(c.Select("Archive", nil).Wait()) }},
	} {
		if err := tc.err(); !isNo(err) {
			t.Errorf("%s: %v, want NO", tc.what, err)
		}
	}
	list, err := c.List("", "*", nil).Collect()
	if err != nil || len(list) != 1 || list[0].Mailbox != "INBOX" {
		t.Errorf("LIST \"\" * = %+v, %v", list, err)
	}
	status, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true, NumUnseen: true, UIDNext: true}).Wait()
	if err != nil || status.NumMessages == nil || status.NumUnseen == nil {
		t.Fatalf("STATUS = %+v, %v", status, err)
	}
	if *status.NumMessages != 2 || *status.NumUnseen != 1 || status.UIDNext != 3 {
		t.Errorf("STATUS = %+v, %v", status, err)
	}
	if err := c.Subscribe("INBOX").Wait(); err != nil {
		t.Errorf("SUBSCRIBE INBOX: %v", err)
	}
}

func selectErr(_ *imap.SelectData, err error) error { return err }
func copyErr(_ *imap.CopyData, err error) error     { return err }

func appendErr(c *imapclient.Client, mailbox string, msg []byte) error {
	cmd := c.Append(mailbox, int64(len(msg)), nil)
	cmd.Write(msg)
	cmd.Close()
	_, err := cmd.Wait()
	return err
}
func moveErr(_ *imapclient.MoveData, err error) error { return err }

// TestIMAPCloseAndExamine: CLOSE expunges without EXPUNGE responses (RFC
// 9051 §6.4.1); EXAMINE refuses STORE and EXPUNGE and its CLOSE succeeds,
// removing nothing; LIST "" "" gives the hierarchy delimiter.
func TestIMAPCloseAndExamine(t *testing.T) {
	lab := startIMAP(t)
	deleted := lab.deliver(sample("deleted", "x"))
	kept := lab.deliver(sample("kept", "y"))
	out := lab.talk(t, `s STORE 1:2 +FLAGS.SILENT (\Deleted)`, "e EXAMINE INBOX", `n STORE 1 -FLAGS (\Deleted)`,
		"p EXPUNGE", "u UID EXPUNGE 1:*", "c CLOSE", `l LIST "" ""`)
	if lab.file(deleted) == "" || lab.file(kept) == "" {
		t.Fatalf("CLOSE after EXAMINE removed files:\n%s", out)
	}
	if !strings.Contains(out, "\r\np NO") || !strings.Contains(out, "\r\nu NO") || !strings.Contains(out, "\r\nc OK") {
		t.Errorf("EXPUNGE, UID EXPUNGE, CLOSE after EXAMINE: want NO, NO, OK:\n%s", out)
	}
	if !strings.Contains(out, "\r\nn NO") || !strings.Contains(out, `* LIST (\Noselect) "/" ""`) {
		t.Errorf("STORE after EXAMINE or LIST \"\" \"\":\n%s", out)
	}
	out = lab.talk(t, `s STORE 2 -FLAGS.SILENT (\Deleted)`, "c CLOSE")
	if strings.Contains(out, "EXPUNGE") || !strings.Contains(out, "c OK") {
		t.Errorf("CLOSE answered:\n%s", out)
	}
	if lab.file(deleted) != "" || lab.file(kept) != "cur/"+kept+":2," {
		t.Errorf("after CLOSE: %q %q, want the \\Deleted message gone and the other kept", lab.file(deleted), lab.file(kept))
	}
}
