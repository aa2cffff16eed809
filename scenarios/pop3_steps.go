package scenarios

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/pecspec/pecspec/probe"
)

func registerPOP3Steps(sc stepRegistrar) {
	sc.Step(`^`+partyExpr+` reads the same messages over POP3 as over IMAP$`, readsOverPOP3)
}

// readsOverPOP3 opens the party's maildrop over POP3 (the target file's
// pop3 endpoint) and finds there, byte for byte, every message this
// scenario read from that mailbox over IMAP: UIDL lists the messages with
// unique ids, TOP n 0 gives each one's header (compared with the IMAP
// copy's), RETR the whole message. Other scenarios' messages may share the
// mailbox: only this scenario's are looked for.
func readsOverPOP3(ctx context.Context, who string) error {
	w := world(ctx)
	p, err := w.party(who)
	if err != nil {
		return err
	}
	if p.pop3 == (probe.Endpoint{}) {
		return fmt.Errorf("the target file names no pop3 endpoint for %s", p.Address())
	}
	var want [][]byte
	for _, c := range w.caps {
		if strings.EqualFold(c.Mailbox, p.Address()) && !c.AtMX {
			want = append(want, c.Raw)
		}
	}
	if len(want) == 0 {
		return fmt.Errorf("no message of %s was read over IMAP in this scenario", p.Address())
	}
	ctx, cancel := context.WithTimeout(ctx, w.r.opts.StepTimeout)
	defer cancel()
	s, err := probe.DialPOP3(ctx, p.pop3, w.r.trust, p.account)
	if err != nil {
		return err
	}
	defer s.Close()
	return pop3Holds(s, want)
}

// pop3Holds checks that the maildrop holds each of want exactly.
func pop3Holds(s *probe.POP3, want [][]byte) error {
	uids, err := s.UIDL()
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	nums := make([]int, 0, len(uids))
	for n, uid := range uids {
		if seen[uid] {
			return fmt.Errorf("POP3 UIDL gives %q to two messages", uid)
		}
		seen[uid] = true
		nums = append(nums, n)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(nums))) // newest first: this scenario's
	for i, raw := range want {
		if err := findOverPOP3(s, nums, raw); err != nil {
			return fmt.Errorf("message %d of %d read over IMAP: %w", i+1, len(want), err)
		}
	}
	return nil
}

// findOverPOP3 looks for raw among the messages nums: TOP to compare the
// header, then RETR to compare every byte.
func findOverPOP3(s *probe.POP3, nums []int, raw []byte) error {
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 {
		return fmt.Errorf("the IMAP copy has no header end")
	}
	for _, n := range nums {
		top, err := s.Top(n, 0)
		if err != nil {
			return err
		}
		if !bytes.Equal(top, raw[:end+4]) {
			continue
		}
		got, err := s.Retr(n)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, raw) {
			return fmt.Errorf("POP3 RETR %d differs from the IMAP copy (%d bytes against %d)", n, len(got), len(raw))
		}
		return nil
	}
	return fmt.Errorf("not in the POP3 maildrop (%d messages)", len(nums))
}
