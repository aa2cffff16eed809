package accesspoint

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/pecspec/pecspec/reference/antivirus"
	"github.com/pecspec/pecspec/reference/index"
)

// lateDirectory answers only once the submission's context has ended: an
// index that came back after the client's transaction could have timed out.
type lateDirectory struct{}

func (lateDirectory) ByDomain(ctx context.Context, domain string) (*index.Provider, error) {
	<-ctx.Done()
	return &index.Provider{Name: "Beta", Domains: []string{domain}}, nil
}

// TestNoLateAcceptance: a submission whose dependencies answer after its
// budget is refused with ErrTemporary and leaves nothing behind — no
// accettazione, no envelope, no notice — whether it would have been accepted
// or not accepted (issue 15).
func TestNoLateAcceptance(t *testing.T) {
	for name, scan := range map[string]antivirus.Func{
		"accepted": nil,
		"virus": func(context.Context, io.Reader) (antivirus.Result, error) {
			return antivirus.Result{Infected: true, Signature: "Test"}, nil
		},
	} {
		p, o := point(t, scan)
		p.Directory = lateDirectory{}
		ctx, cancel := context.WithCancel(context.Background())
		go cancel() // the budget runs out while the index is asked
		sub := Submission{User: "alice@pec.alpha.test", From: "alice@pec.alpha.test",
			To: []string{"bob@pec.beta.test", "carol@example.org"}, Message: spooled(t, []byte(orig))}
		err := p.Accept(ctx, sub)
		if !errors.Is(err, ErrTemporary) {
			t.Errorf("%s: err = %v, want ErrTemporary", name, err)
		}
		if len(o.delivered)+len(o.sent) != 0 {
			t.Errorf("%s: %d messages delivered and %d queued after the budget ran out", name, len(o.delivered), len(o.sent))
		}
	}
}
