package receptionpoint

import (
	"context"
	"fmt"
	"time"
)

// Budget bounds the work on one incoming message after the end of its DATA,
// as at the access point: a message not ready to commit within Budget (the
// index, clamd or the token slow or gone) is answered 451 and its outputs are
// not made; the sending MTA, which may have given up already, sends it again
// (issue 15). Once the first output is made the rest follows: a reception is
// replayable (package once), so a crash in between completes on the retry.
const Budget = 20 * time.Second

// transaction is the context of one message's work, from the end of DATA.
func transaction() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), Budget)
}

// beforeCommit is called right before a reception's first durable output: past
// the budget it refuses with an ErrTemporary; else it returns the context the
// outputs are made under, which the clock no longer cancels.
func beforeCommit(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: not ready to commit %v after the end of DATA: %v", ErrTemporary, Budget, err)
	}
	return context.WithoutCancel(ctx), nil
}
