package scenarios

import (
	"context"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/pecspec/pecspec/internal/testnet"
	"github.com/pecspec/pecspec/internal/testpki"
	"github.com/pecspec/pecspec/probe"
)

// busyMX is a submission server whose DATA answers 451 the first busy
// times, then 250.
type busyMX struct {
	busy, datas atomic.Int32
}

func (b *busyMX) NewSession(*smtp.Conn) (smtp.Session, error) { return &busySession{b: b}, nil }

type busySession struct{ b *busyMX }

func (s *busySession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *busySession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, _, _ string) error { return nil }), nil
}
func (s *busySession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *busySession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *busySession) Data(r io.Reader) error {
	_, _ = io.Copy(io.Discard, r)
	if s.b.datas.Add(1) <= s.b.busy.Load() {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure, try again later"}
	}
	return nil
}
func (s *busySession) Reset()        {}
func (s *busySession) Logout() error { return nil }

// TestSubmitRetriesTransient: a correct submission answered 451 is tried
// again, as a client does (RFC 5321 §4.2.5), and taken the second time; one
// answered 451 every time is a harness error naming the endpoint — never a
// finding, never "a step failed without naming a rule".
func TestSubmitRetriesTransient(t *testing.T) {
	defer func(d time.Duration) { submitRetryPause = d }(submitRetryPause)
	submitRetryPause = 10 * time.Millisecond
	ca := testpki.NewCA(t)
	b := &busyMX{}
	_, port := testnet.SMTPS(t, b, ca.ServerTLS(t))
	target := &probe.Target{Name: "busy", Submission: probe.Endpoint{Host: "127.0.0.1", Port: port, TLS: probe.TLSImplicit}}
	r := &runner{opts: Options{StepTimeout: 20 * time.Second, Target: target}, trust: ca.Pool,
		evidence: &probe.Evidence{Out: t.TempDir()}}
	w := &World{r: r, res: &ScenarioResult{Name: "busy"}}
	sender := &party{provider: target, account: probe.Account{Address: "a@pec.busy.test", Password: "p"}}
	ctx := probe.WithAnswerTimeout(context.Background(), 5*time.Second)
	msg := []byte("Subject: x\r\n\r\nx\r\n")

	b.busy.Store(1)
	if err := w.submit(ctx, sender, "a@pec.busy.test", []string{"b@pec.busy.test"}, msg); err != nil || b.datas.Load() != 2 {
		t.Errorf("451 once: %v after %d DATA, want taken at the second", err, b.datas.Load())
	}
	b.datas.Store(0)
	b.busy.Store(100)
	err := w.submit(ctx, sender, "a@pec.busy.test", []string{"b@pec.busy.test"}, msg)
	if status, _, on := classifyFailure(err); status != "error" || on != failedHarness ||
		!strings.Contains(err.Error(), target.Submission.Addr()) || b.datas.Load() != submitTries {
		t.Errorf("451 every time: %v (%s, %s) after %d DATA, want a harness error naming the endpoint after %d",
			err, status, on, b.datas.Load(), submitTries)
	}
}
