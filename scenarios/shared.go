package scenarios

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/probe/peer"
)

// startPeer runs gamma for the run: the one Options.Peer shares, or its own
// from the target file's peer section; its clock starts at the target's.
func (r *runner) startPeer(ctx context.Context) error {
	switch {
	case r.opts.Peer != nil:
		r.peer = r.opts.Peer
	case r.opts.Target.Peer != nil:
		p, err := peer.Start(*r.opts.Target.Peer, r.opts.Target.Path)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrHarness, err)
		}
		r.peer = p
	default:
		return nil
	}
	if err := r.syncPeerClock(ctx); err != nil {
		return fmt.Errorf("%w: %v", ErrHarness, err)
	}
	return nil
}

// clockCompanions are the providers whose controllable clocks move with the
// target's: its counterpart and Options.MoveClocks, each once, never the
// target itself.
func (r *runner) clockCompanions() []*probe.Target {
	t := r.opts.Target
	seen := map[string]bool{t.Name: true}
	var out []*probe.Target
	for _, p := range append([]*probe.Target{t.Counterpart}, r.opts.MoveClocks...) {
		if p == nil || seen[p.Name] || p.Admin == nil {
			continue
		}
		seen[p.Name] = true
		out = append(out, p)
	}
	return out
}

// emptyJUnit is junit.xml of a run that ran no scenario (a shard with
// nothing to run): the same shape as godog's, no test case.
const emptyJUnit = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="pecspec" tests="0" skipped="0" failures="0" errors="0" time="0"></testsuites>
`

// writeEmptyReports writes the junit.xml and cucumber.json of a run that
// ran no scenario.
func writeEmptyReports(out string) error {
	err := errors.Join(os.WriteFile(filepath.Join(out, "junit.xml"), []byte(emptyJUnit), 0o644),
		os.WriteFile(filepath.Join(out, "cucumber.json"), []byte("[]\n"), 0o644))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrHarness, err)
	}
	return nil
}
