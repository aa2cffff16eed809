package hsm

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/miekg/pkcs11"
)

// A PKCS#11 token can lose what a process holds in it: SoftHSM2 whose token
// directory goes away (even for a moment) answers CKR_OBJECT_HANDLE_INVALID
// and CKR_GENERAL_ERROR until the module is initialised again; sessions
// closed by C_CloseAllSessions answer CKR_SESSION_HANDLE_INVALID; a hardware
// token pulled out answers CKR_DEVICE_REMOVED or CKR_TOKEN_NOT_PRESENT. An
// operation that gets such an error recovers the token — C_Finalize,
// C_Initialize, the slot found again by label, new sessions, C_Login, the
// key found again — and runs once more. While the token stays away each
// operation fails at once (ErrUnavailable) and a new recovery is tried at
// most every RetryEvery, so the provider answers 4xx until it is back and
// signs again, without a restart, as soon as it is (issue 15).

// ErrUnavailable means the token is away: a recovery failed recently.
var ErrUnavailable = errors.New("hsm: token unavailable")

// RetryEvery spaces the recoveries tried while the token stays away.
const RetryEvery = time.Second

// maxRecoveries bounds the recoveries one operation tries.
const maxRecoveries = 2

// lostCodes are the PKCS#11 results that mean the session, the login, the
// key handle or the token itself was lost, not that the request was wrong.
var lostCodes = []uint{
	pkcs11.CKR_SESSION_HANDLE_INVALID, pkcs11.CKR_SESSION_CLOSED, pkcs11.CKR_SESSION_COUNT,
	pkcs11.CKR_DEVICE_REMOVED, pkcs11.CKR_DEVICE_ERROR, pkcs11.CKR_TOKEN_NOT_PRESENT,
	pkcs11.CKR_TOKEN_NOT_RECOGNIZED, pkcs11.CKR_SLOT_ID_INVALID, pkcs11.CKR_OBJECT_HANDLE_INVALID,
	pkcs11.CKR_KEY_HANDLE_INVALID, pkcs11.CKR_USER_NOT_LOGGED_IN, pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED,
	pkcs11.CKR_GENERAL_ERROR,
}

// lost reports whether err means the token must be recovered.
func lost(err error) bool {
	if errors.Is(err, ErrUnavailable) {
		return true
	}
	var e pkcs11.Error
	if !errors.As(err, &e) {
		return false
	}
	for _, c := range lostCodes {
		if uint(e) == c {
			return true
		}
	}
	return false
}

// downState is the last failed recovery.
type downState struct {
	at  time.Time
	err error
}

// with runs f on a borrowed session, with the token's generation (key handles
// are valid within one), within the token's deadline. When f's error means a
// lost session, key or token, the token is recovered and f runs again, at
// most maxRecoveries times.
func (t *Token) with(f func(s pkcs11.SessionHandle, gen uint64) error) error {
	done := make(chan error, 1)
	go func() {
		for attempt := 0; ; attempt++ {
			gen, err := t.once(f)
			if err == nil || !lost(err) || attempt == maxRecoveries {
				done <- err
				return
			}
			t.cfg.Log.Warn("token lost; recovering", "token", t.cfg.TokenLabel, "attempt", attempt+1, "err", err)
			if rerr := t.recover(gen); rerr != nil {
				done <- fmt.Errorf("%w: %v (recovery: %v)", ErrUnavailable, err, rerr)
				return
			}
		}
	}()
	timer := time.NewTimer(t.cfg.Timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		// The call goes on and gives its session back when it returns.
		return fmt.Errorf("%w: token %q did not answer within %v", ErrHSM, t.cfg.TokenLabel, t.cfg.Timeout)
	}
}

// once runs f on one session of the current generation.
func (t *Token) once(f func(s pkcs11.SessionHandle, gen uint64) error) (uint64, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	switch {
	case t.ctx == nil:
		return t.gen, fmt.Errorf("%w: closed", ErrHSM)
	case t.pool == nil:
		return t.gen, fmt.Errorf("%w: %v", ErrUnavailable, t.down.err)
	}
	s := <-t.pool
	defer func() { t.pool <- s }()
	return t.gen, f(s, t.gen)
}

// recover re-initialises the module and re-opens the token, unless another
// operation already did since generation gen, or a recovery failed less than
// RetryEvery ago.
func (t *Token) recover(gen uint64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.ctx == nil:
		return fmt.Errorf("%w: closed", ErrHSM)
	case t.gen != gen:
		return nil
	case t.down.err != nil && time.Since(t.down.at) < RetryEvery:
		return t.down.err
	}
	start := time.Now()
	t.closeSessions()
	_ = t.ctx.Finalize()
	if t.cfg.SoftHSMConf != "" {
		os.Setenv("SOFTHSM2_CONF", t.cfg.SoftHSMConf)
	}
	err := t.ctx.Initialize()
	if err == nil || isCode(err, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		err = t.open()
	}
	if err != nil {
		t.closeSessions()
		t.down = downState{at: time.Now(), err: err}
		t.cfg.Log.Error("token recovery failed", "token", t.cfg.TokenLabel, "err", err)
		return err
	}
	t.gen++
	t.down = downState{}
	t.cfg.Log.Info("token recovered", "token", t.cfg.TokenLabel, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// Check reports whether the token answers: its session state read on one
// session (recovering it when lost, as any operation does).
func (t *Token) Check() error {
	return t.with(func(s pkcs11.SessionHandle, _ uint64) error {
		if _, err := t.ctx.GetSessionInfo(s); err != nil {
			return err
		}
		_, err := t.ctx.GetTokenInfo(t.slot)
		return err
	})
}
