package provider

import (
	"context"
	"slices"
	"time"

	"github.com/pecspec/pecspec/reference/antivirus"
	"github.com/pecspec/pecspec/reference/index"
)

// dependency is a component the instance cannot work without, and how to
// check it within a context.
type dependency struct {
	name  string
	check func(ctx context.Context) error
}

// dependencies are the token, clamd and, when the index is read from slapd,
// slapd; an index loaded from signed LDIF files lives in memory.
func (p *Provider) dependencies(dir index.Directory) []dependency {
	clamd := antivirus.NewClamd("unix", p.cfg.Clamd.Socket)
	deps := []dependency{
		{"token", func(context.Context) error { return p.token.Check() }},
		{"clamd", clamd.Ping},
	}
	if l, ok := dir.(*index.LDAP); ok {
		deps = append(deps, dependency{"index", l.Check})
	}
	return deps
}

// healthTimeout bounds each check of GET /health.
const healthTimeout = 2 * time.Second

// health checks every dependency at once, each within healthTimeout, and
// returns each one's state ("ok", or why not) and whether all are ok.
func (p *Provider) health(ctx context.Context) (map[string]string, bool) {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	type result struct{ name, state string }
	results := make(chan result, len(p.deps))
	for _, d := range p.deps {
		go func() {
			state := "ok"
			if err := d.check(ctx); err != nil {
				state = err.Error()
			}
			results <- result{d.name, state}
		}()
	}
	states, ok := map[string]string{}, true
	for _, d := range p.deps {
		states[d.name] = "no answer within " + healthTimeout.String()
	}
	for range p.deps {
		select {
		case r := <-results:
			states[r.name] = r.state
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	for _, s := range states {
		ok = ok && s == "ok"
	}
	return states, ok
}

// failing lists the dependencies whose state is not "ok", sorted.
func failing(states map[string]string) []string {
	var out []string
	for name, s := range states {
		if s != "ok" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
