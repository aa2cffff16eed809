package mailbox

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

// TestIMAPSearch: SEARCH and UID SEARCH over the index and the files. The
// first delivery is expunged, so sequence numbers (1..3) and UIDs (2..4)
// differ.
func TestIMAPSearch(t *testing.T) {
	lab := startIMAP(t)
	lab.deliver(sample("gone", "gone"))
	lab.deliver("Subject: Ricevuta di accettazione\r\nX-Ricevuta: accettazione\r\nDate: Tue, 05 Mar 2024 10:00:00 +0100\r\n\r\nhello world\r\n")
	lab.deliver("Subject: =?UTF-8?Q?Consegna_=C3=A0=C3=A8?=\r\nDate: Wed, 06 Mar 2024 23:30:00 -0500\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\nbGEgcGFyb2xhIHNlZ3JldGE=\r\n--b--\r\n") // "la parola segreta"
	lab.deliver("Subject: big\r\nDate: Fri, 01 Jan 2021 08:00:00 +0000\r\n\r\n" + strings.Repeat("x", 5000) + " Needle\r\n")
	c, _ := lab.open(nil)
	if err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
		Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Expunge().Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true,
		Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	yesterday := time.Now().AddDate(0, 0, -1)
	hdr := func(k, v string) []imap.SearchCriteriaHeaderField {
		return []imap.SearchCriteriaHeaderField{{Key: k, Value: v}}
	}
	for _, tc := range []struct {
		name string
		c    imap.SearchCriteria
		want []uint32
	}{
		{"ALL", imap.SearchCriteria{}, []uint32{1, 2, 3}},
		{"SUBJECT", imap.SearchCriteria{Header: hdr("Subject", "ACCETTAZIONE")}, []uint32{1}},
		{"SUBJECT encoded word", imap.SearchCriteria{Header: hdr("Subject", "consegna ÀÈ")}, []uint32{2}},
		{"HEADER present", imap.SearchCriteria{Header: hdr("X-Ricevuta", "")}, []uint32{1}},
		{"HEADER absent value", imap.SearchCriteria{Header: hdr("X-Ricevuta", "consegna")}, nil},
		{"SEEN", imap.SearchCriteria{Flag: []imap.Flag{imap.FlagSeen}}, []uint32{2}},
		{"UNSEEN", imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, []uint32{1, 3}},
		{"LARGER", imap.SearchCriteria{Larger: 3000}, []uint32{3}},
		{"SMALLER", imap.SearchCriteria{Smaller: 3000}, []uint32{1, 2}},
		{"BODY", imap.SearchCriteria{Body: []string{"HELLO"}}, []uint32{1}},
		{"BODY base64 part", imap.SearchCriteria{Body: []string{"Parola Segreta"}}, []uint32{2}},
		{"BODY not in headers", imap.SearchCriteria{Body: []string{"accettazione"}}, nil},
		{"TEXT header", imap.SearchCriteria{Text: []string{"accettazione"}}, []uint32{1}},
		{"TEXT body", imap.SearchCriteria{Text: []string{"needle"}}, []uint32{3}},
		{"NOT", imap.SearchCriteria{Not: []imap.SearchCriteria{{Body: []string{"hello"}}}}, []uint32{2, 3}},
		{"OR", imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{{Larger: 3000}, {Flag: []imap.Flag{imap.FlagSeen}}}}}, []uint32{2, 3}},
		{"SENTBEFORE", imap.SearchCriteria{SentBefore: day(2024, 1, 1)}, []uint32{3}},
		{"SENTON (date as written)", imap.SearchCriteria{SentSince: day(2024, 3, 6), SentBefore: day(2024, 3, 7)}, []uint32{2}},
		{"SINCE", imap.SearchCriteria{Since: yesterday}, []uint32{1, 2, 3}},
		{"BEFORE", imap.SearchCriteria{Before: yesterday}, nil},
		{"seq set", imap.SearchCriteria{SeqNum: []imap.SeqSet{{{Start: 2, Stop: 0}}}}, []uint32{2, 3}},
		{"UID set", imap.SearchCriteria{UID: []imap.UIDSet{imap.UIDSetNum(3)}}, []uint32{2}},
	} {
		data, err := c.Search(&tc.c, nil).Wait()
		if err != nil {
			t.Errorf("SEARCH %s: %v", tc.name, err)
			continue
		}
		if got := data.AllSeqNums(); !slices.Equal(got, tc.want) {
			t.Errorf("SEARCH %s = %v, want %v", tc.name, got, tc.want)
		}
	}
	uids, err := c.UIDSearch(&imap.SearchCriteria{Body: []string{"hello"}}, nil).Wait()
	if err != nil || !slices.Equal(uids.AllUIDs(), []imap.UID{2}) {
		t.Errorf("UID SEARCH BODY hello = %v, %v; want UID 2", uids, err)
	}
	ret := &imap.SearchOptions{ReturnMin: true, ReturnMax: true, ReturnCount: true}
	es, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, ret).Wait()
	if err != nil || es.Min != 2 || es.Max != 4 || es.Count != 2 {
		t.Errorf("UID SEARCH RETURN (MIN MAX COUNT) UNSEEN = %+v, %v; want 2 4 2", es, err)
	}
	// imapclient cannot send RETURN (SAVE): speak the protocol directly
	out := lab.talk(t, "s SEARCH RETURN (SAVE) LARGER 3000", "f UID FETCH $ (UID)", "e SEARCH UID $")
	if !strings.Contains(out, "* 3 FETCH (UID 4)") || !strings.Contains(out, "* SEARCH 3\r\n") {
		t.Errorf("SEARCH RETURN (SAVE) then $:\n%s", out)
	}
}

// TestIMAPSearchSaveMinMax: with MIN and/or MAX and neither ALL nor COUNT,
// SAVE keeps only those matches (RFC 5182 §2.1); otherwise every match.
func TestIMAPSearchSaveMinMax(t *testing.T) {
	lab := startIMAP(t)
	for i := range 4 {
		lab.deliver(sample(fmt.Sprint(i), "x"))
	}
	a := lab.raw(t)
	for _, tc := range []struct {
		ret  string
		want []string
	}{
		{"MIN SAVE", []string{"UID 1"}},
		{"MAX SAVE", []string{"UID 4"}},
		{"MIN MAX SAVE", []string{"UID 1", "UID 4"}},
		{"MIN COUNT SAVE", []string{"UID 1", "UID 2", "UID 3", "UID 4"}},
		{"SAVE", []string{"UID 1", "UID 2", "UID 3", "UID 4"}},
	} {
		a.do("s SEARCH RETURN (" + tc.ret + ") ALL")
		out := a.do("f UID FETCH $ (UID)")
		if got := strings.Count(out, " FETCH ("); got != len(tc.want) {
			t.Errorf("RETURN (%s) then FETCH $: %d messages, want %v:\n%s", tc.ret, got, tc.want, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, "("+w+")") {
				t.Errorf("RETURN (%s) then FETCH $: no %s:\n%s", tc.ret, w, out)
			}
		}
	}
}
