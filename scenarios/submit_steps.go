package scenarios

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/report"
)

func registerSubmitSteps(sc stepRegistrar) {
	sc.Step(`^the target and its counterpart are reachable$`, reachable)
	sc.Step(`^(\w+) sends a certified message to (\w+) at the counterpart$`, sendsToCounterpart)
}

// reachable dials every endpoint of the target and the counterpart.
func reachable(ctx context.Context) error {
	w := world(ctx)
	t := w.r.opts.Target
	if t.Counterpart == nil {
		return fmt.Errorf("the target file names no counterpart provider")
	}
	for _, p := range []*probe.Target{t, t.Counterpart} {
		for name, ep := range map[string]probe.Endpoint{"submission": p.Submission, "imap": p.IMAP, "mx": p.MX} {
			c, err := net.DialTimeout("tcp", ep.Addr(), 5*time.Second)
			if err != nil {
				return fmt.Errorf("%s %s endpoint %s unreachable: %w", p.Name, name, ep.Addr(), err)
			}
			c.Close()
		}
	}
	return nil
}

// sendsToCounterpart submits a new certified message as a user of the target.
func sendsToCounterpart(ctx context.Context, from, to string) error {
	w := world(ctx)
	t := w.r.opts.Target
	sender, ok := t.Account(from)
	if !ok {
		return fmt.Errorf("no account %q at the target %s", from, t.Name)
	}
	rcpt, err := w.counterpartAccount(to)
	if err != nil {
		return err
	}
	subject := "pecspec " + probe.Slug(w.res.Name)
	id, raw := probe.NewOriginal(sender.Address, []string{rcpt.Address}, nil, subject,
		"Messaggio di prova di pecspec.\nScenario: "+w.res.Name+"\n")
	if rel, err := w.r.evidence.SaveSent(w.res.Name, raw); err == nil {
		w.res.Sent = append(w.res.Sent, rel)
	}
	ctx, cancel := context.WithTimeout(ctx, w.r.opts.StepTimeout)
	defer cancel()
	if err := probe.Submit(ctx, t.Submission, w.r.trust, sender, sender.Address, []string{rcpt.Address}, raw); err != nil {
		return err
	}
	w.bound[from] = binding{t, sender}
	w.bound[to] = binding{t.Counterpart, rcpt}
	w.sub = report.Submission{Sender: sender.Address, To: []string{rcpt.Address}, MessageID: id}
	return nil
}
