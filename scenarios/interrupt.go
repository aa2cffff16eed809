package scenarios

import (
	"context"
	"time"
)

// interrupted is why the run was stopped early (the cause of its context:
// a signal, a closed standard output), or nil. An interrupted run is a
// harness error: the scenarios under way end in error, those not begun do
// not run, and the reports cover the scenarios that ended.
func (r *runner) interrupted() error {
	if r.ctx == nil || r.ctx.Err() == nil {
		return nil
	}
	return context.Cause(r.ctx)
}

// offset is how far the target's clock is ahead of real time, as last read.
func (r *runner) offset() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.clockOffset
}
