package accesspoint

import (
	"context"
	"fmt"
	"time"
)

// Budget bounds the work on one submission after the end of its DATA. Clients
// wait a limited time for the final reply (RFC 5321 §4.5.3.2.6 asks for 10
// minutes; common clients give up after 30–60 s). A submission whose work is
// not ready to commit within Budget — the index, clamd or the token slow or
// gone — is answered 451 and nothing of it is made durable: a message is never
// accepted after its client could have given up and resubmitted it (issue 15).
const Budget = 20 * time.Second

// transaction is the context of one submission's work, from the end of DATA.
func transaction() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), Budget)
}

// beforeCommit is called right before the first durable output of a
// submission (receipt, envelope, notice): past the budget it refuses, with an
// ErrTemporary. After it the commit runs to its end whatever the clock says
// (commit), so a submission is either wholly accepted or not at all.
func beforeCommit(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: not ready to commit %v after the end of DATA: %v", ErrTemporary, Budget, err)
	}
	return context.WithoutCancel(ctx), nil
}
