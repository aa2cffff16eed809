package lab

import (
	"maps"
	"testing"
)

// TestRoutesFor: Options.Routes overrides the way to another provider's
// domain in every instance, never an instance's way to its own domain, and
// keeps the static routes to a PUT.
func TestRoutesFor(t *testing.T) {
	put := &PUT{Enrolment: &Enrolment{Domains: []string{"pec.acme.test"}, MX: endpoint{Host: "127.0.0.9", Port: 20025}}}
	l := &Lab{layout: &layout{mxPort: 10002}, PUTs: []*PUT{put},
		routes: map[string]string{"PEC.beta.test": "127.0.0.1:4000", "pec.alpha.test": "127.0.0.1:4001"}}
	alpha, beta := &Instance{Domain: "pec.alpha.test"}, &Instance{Domain: "pec.beta.test"}
	for _, c := range []struct {
		in   *Instance
		want map[string]string
	}{
		{alpha, map[string]string{"pec.acme.test": "127.0.0.9:20025", "pec.beta.test": "127.0.0.1:4000"}},
		{beta, map[string]string{"pec.acme.test": "127.0.0.9:20025", "pec.alpha.test": "127.0.0.1:4001"}},
	} {
		if got := l.routesFor(c.in); !maps.Equal(got, c.want) {
			t.Errorf("routesFor(%s) = %v, want %v", c.in.Domain, got, c.want)
		}
	}
}
