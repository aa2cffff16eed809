package receptionpoint

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"testing"

	"github.com/pecspec/pecspec/internal/testpki"
	"github.com/pecspec/pecspec/reference/antivirus"
	"github.com/pecspec/pecspec/reference/clock"
	"github.com/pecspec/pecspec/reference/index"
)

// lateIndex answers only after the reception's context has ended.
type lateIndex struct{ p *index.Provider }

func (l lateIndex) ByCertHash(ctx context.Context, _ string) (*index.Provider, error) {
	<-ctx.Done()
	return l.p, nil
}

// TestNoLateReception: an envelope and ordinary mail whose index or clamd
// answer comes after the budget ran out get ErrTemporary and no output at all (no
// presa in carico, no delivery, no anomaly): the sender retries (issue 15).
func TestNoLateReception(t *testing.T) {
	p := testpki.NewCA(t)
	alpha, beta := sealer(t, p, "pec.alpha.test"), sealer(t, p, "pec.beta.test")
	listed := &index.Provider{Name: "Alpha", MailReceipt: "ricevute@pec.alpha.test", Domains: []string{"pec.alpha.test"},
		Certificates: []*x509.Certificate{alpha.Cert}}
	for name, data := range map[string][]byte{
		"envelope": envelope(t, alpha),
		"ordinary": []byte("From: x@example.org\r\nTo: bob@pec.beta.test\r\nSubject: hi\r\n\r\nhello\r\n"),
	} {
		d, out := &fakeDelivery{}, &fakeOut{}
		rp := &Point{Sealer: beta, Directory: lateIndex{listed}, Trust: p.Pool, Delivery: d, Out: out,
			Clock: clock.System{}, Domains: []string{"pec.beta.test"}}
		// Unsigned mail asks no index; clamd answers it late.
		rp.Scanner = antivirus.Func(func(ctx context.Context, _ io.Reader) (antivirus.Result, error) {
			<-ctx.Done()
			return antivirus.Result{}, nil
		})
		ctx, cancel := context.WithCancel(context.Background())
		go cancel()
		err := rp.Receive(ctx, Incoming{From: "alice@pec.alpha.test", To: []string{"bob@pec.beta.test"}, Data: data})
		if !errors.Is(err, ErrTemporary) {
			t.Errorf("%s: err = %v, want ErrTemporary", name, err)
		}
		if len(d.envelopes)+len(d.plain)+len(out.sent) != 0 {
			t.Errorf("%s: %d envelopes, %d plain, %d queued after the budget ran out", name,
				len(d.envelopes), len(d.plain), len(out.sent))
		}
	}
}
