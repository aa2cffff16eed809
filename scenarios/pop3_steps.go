package scenarios

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/pecspec/pecspec/pec"
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
		return harnessf("the target file names no pop3 endpoint for %s", p.Address())
	}
	var want [][]byte
	for _, c := range w.caps {
		if strings.EqualFold(c.Mailbox, p.Address()) && !c.AtMX {
			want = append(want, c.Raw)
		}
	}
	if len(want) == 0 {
		return harnessf("no message of %s was read over IMAP in this scenario: the step has nothing to compare", p.Address())
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

// pop3Holds checks that the maildrop holds each of want exactly. A message
// missing over POP3 breaks the rule that requires that message (the user
// reading over POP3 never gets it); one that differs from the signed IMAP
// copy breaks SIG-04 (what that user reads is not what the signature covers).
func pop3Holds(s *probe.POP3, want [][]byte) error {
	uids, err := s.UIDL()
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	nums := make([]int, 0, len(uids))
	for n, uid := range uids {
		if seen[uid] {
			return harnessf("the POP3 server gives the unique-id %q to two messages (RFC 1939 §7): its maildrop cannot be read reliably", uid)
		}
		seen[uid] = true
		nums = append(nums, n)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(nums))) // newest first: this scenario's
	for _, raw := range want {
		if err := findOverPOP3(s, nums, raw); err != nil {
			return err
		}
	}
	return nil
}

// findOverPOP3 looks for raw among the messages nums: TOP to compare the
// header, then RETR to compare every byte.
func findOverPOP3(s *probe.POP3, nums []int, raw []byte) error {
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 {
		return harnessf("the IMAP copy has no header end")
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
			return &ruleError{rule: "SIG-04", err: fmt.Errorf("POP3 RETR %d differs from the signed IMAP copy (%d bytes against %d)",
				n, len(got), len(raw))}
		}
		return nil
	}
	kind := pec.Parse(raw).Kind()
	return &ruleError{rule: kindRequiredBy[kind], err: fmt.Errorf("the %s is not in the POP3 maildrop (%d messages)", kind, len(nums))}
}

// kindRequiredBy names, per kind of message, the rule its absence breaks
// (as requiredBy does for the waiting steps' words).
var kindRequiredBy = map[pec.Kind]string{
	pec.KindAccettazione:            "ACC-09",
	pec.KindTrasporto:               "TRN-01",
	pec.KindPresaInCarico:           "PIC-05",
	pec.KindAvvenutaConsegna:        "CON-02",
	pec.KindErroreConsegna:          "ERR-01",
	pec.KindNonAccettazione:         "NAC-01",
	pec.KindAnomalia:                "ANO-01",
	pec.KindRilevazioneVirus:        "VIR-03",
	pec.KindPreavvisoErroreConsegna: "TIM-02",
}
