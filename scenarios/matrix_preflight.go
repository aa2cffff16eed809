package scenarios

import (
	"context"
	"sync"
	"time"

	"github.com/pecspec/pecspec/probe"
)

// preflight checks, once per provider the shard's units need, what the
// run's preflight checks of a target (endpoints, accounts, the lab's route,
// DNS and index record, a declared clock), and once the lab's external
// domain. A provider that fails marks its row and column unreachable: its
// units do not run, the others do, and the matrix ends with exit code 2
// naming it. A lab that fails marks every unit.
func (m *matrixRun) preflight(ctx context.Context) {
	need := map[string]*probe.Target{}
	for _, u := range m.units {
		if !u.mine {
			continue
		}
		t := m.unitTarget(u)
		need[t.Name] = t
		if cp := t.Counterpart; cp != nil {
			c := *cp
			c.Surround(m.opts.Lab)
			need[c.Name] = &c
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, t := range need {
		wg.Go(func() {
			if err := providerPreflight(ctx, t, m.opts.StepTimeout); err != nil {
				mu.Lock()
				m.result.markUnreachable(name, err.Error())
				mu.Unlock()
			}
		})
	}
	var labErr error
	wg.Go(func() { labErr = externalPreflight(ctx, m.opts.Lab) })
	wg.Wait()
	for _, u := range m.units {
		switch {
		case !u.mine:
		case labErr != nil:
			u.status, u.reason = unitUnreachable, labErr.Error()
		default:
			t := m.unitTarget(u)
			for _, name := range []string{t.Name, t.Counterpart.Name} {
				if why := m.result.reason(name); why != "" && u.status == "" {
					u.status, u.reason = unitUnreachable, why
				}
			}
		}
	}
	if labErr != nil {
		m.result.LabError = labErr.Error()
	}
}

// providerPreflight checks one provider as the run's preflight checks a
// target.
func providerPreflight(ctx context.Context, t *probe.Target, step time.Duration) error {
	alone := *t
	alone.Counterpart = nil
	trust, err := loadTrust(&alone)
	if err != nil {
		return err
	}
	if err := checkTargetFile(&alone); err != nil {
		return err
	}
	r := &runner{opts: Options{Target: &alone, StepTimeout: step}, trust: trust}
	return runChecks(ctx, append(r.endpointChecks(&alone, ""), r.labChecks(&alone)...))
}

// externalPreflight checks the lab's ordinary mail domain, which some
// scenarios of every provider use.
func externalPreflight(ctx context.Context, lab *probe.Target) error {
	x := lab.External
	if x == nil {
		return nil
	}
	trust, err := loadTrust(lab)
	if err != nil {
		return err
	}
	return runChecks(ctx, externalChecks(x, trust))
}
