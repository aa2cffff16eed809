// Package hsm is a PKCS#11 token as a crypto.Signer (RFC 6109 §5.1: the
// provider's private key in a hardware module). SoftHSM2 is the default
// module; any vendor module works by path. Keys are generated inside the token
// and never leave it (CKA_EXTRACTABLE false, CKA_SENSITIVE true).
//
// A PKCS#11 session must never be used by two goroutines at once (it crashed
// SoftHSM, platform.md): the token keeps a pool of sessions and every
// operation borrows one.
package hsm

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/miekg/pkcs11"
)

// DefaultModule is Debian's SoftHSM2 module.
const DefaultModule = "/usr/lib/softhsm/libsofthsm2.so"

// Sentinel errors.
var (
	ErrNotFound = errors.New("hsm: not found")
	ErrHSM      = errors.New("hsm")
)

// Config locates a token.
type Config struct {
	Module      string // default DefaultModule
	SoftHSMConf string // when set, SOFTHSM2_CONF for this process
	TokenLabel  string
	PIN         string
	Sessions    int // pool size, default 2
	// Timeout bounds every operation, a recovery included (default 10 s).
	Timeout time.Duration
	// Log hears about lost sessions and recoveries; nil discards.
	Log *slog.Logger
}

// Token is an open, logged-in token with a pool of sessions. A session or
// key lost under it (the token removed and put back, sessions closed by
// another party) is recovered: the module is re-initialised, the sessions
// re-opened and the key found again (recover.go).
type Token struct {
	cfg Config
	// mu is held shared by every operation on a session and exclusively by
	// a recovery, which finalizes the module under everyone's feet.
	mu   sync.RWMutex
	ctx  *pkcs11.Ctx
	slot uint
	pool chan pkcs11.SessionHandle // nil while the token is unavailable
	all  []pkcs11.SessionHandle
	gen  uint64 // counts recoveries: key handles are valid within one
	down downState
}

// Open loads the module, finds the token by label, opens the sessions and
// logs in. Close it before opening a token with another SOFTHSM2_CONF.
func Open(cfg Config) (*Token, error) {
	if cfg.Module == "" {
		cfg.Module = DefaultModule
	}
	if cfg.Sessions <= 0 {
		cfg.Sessions = 2
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.SoftHSMConf != "" {
		os.Setenv("SOFTHSM2_CONF", cfg.SoftHSMConf)
	}
	ctx := pkcs11.New(cfg.Module)
	if ctx == nil {
		return nil, fmt.Errorf("%w: cannot load module %s", ErrHSM, cfg.Module)
	}
	if err := ctx.Initialize(); err != nil && !isCode(err, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		ctx.Destroy()
		return nil, fmt.Errorf("%w: initialize: %w", ErrHSM, err)
	}
	t := &Token{cfg: cfg, ctx: ctx}
	if err := t.open(); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// open finds the slot, opens the sessions and logs in; t.mu is held or t is
// not shared yet.
func (t *Token) open() error {
	slots, err := t.ctx.GetSlotList(true)
	if err != nil {
		return fmt.Errorf("%w: slots: %w", ErrHSM, err)
	}
	found := false
	for _, s := range slots {
		info, err := t.ctx.GetTokenInfo(s)
		if err == nil && info.Label == t.cfg.TokenLabel {
			t.slot, found = s, true
			break
		}
	}
	if !found {
		return fmt.Errorf("%w: token %q", ErrNotFound, t.cfg.TokenLabel)
	}
	pool := make(chan pkcs11.SessionHandle, t.cfg.Sessions)
	for i := 0; i < t.cfg.Sessions; i++ {
		sh, err := t.ctx.OpenSession(t.slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
		if err != nil {
			return fmt.Errorf("%w: open session: %w", ErrHSM, err)
		}
		t.all = append(t.all, sh)
		pool <- sh
	}
	if err := t.ctx.Login(t.all[0], pkcs11.CKU_USER, t.cfg.PIN); err != nil &&
		!isCode(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
		return fmt.Errorf("%w: login: %w", ErrHSM, err)
	}
	t.pool = pool
	return nil
}

// Close logs out, closes the sessions and finalizes the module.
func (t *Token) Close() error {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ctx == nil {
		return nil
	}
	t.closeSessions()
	err := t.ctx.Finalize()
	t.ctx.Destroy()
	t.ctx = nil
	return err
}

// closeSessions logs out and closes every session (errors are moot: the
// sessions may be gone already); t.mu is held.
func (t *Token) closeSessions() {
	if len(t.all) > 0 {
		_ = t.ctx.Logout(t.all[0])
	}
	for _, s := range t.all {
		_ = t.ctx.CloseSession(s)
	}
	t.all, t.pool = nil, nil
}

func isCode(err error, code uint) bool {
	var e pkcs11.Error
	return errors.As(err, &e) && uint(e) == code
}

// findOne returns the single object matching tmpl.
func (t *Token) findOne(s pkcs11.SessionHandle, tmpl []*pkcs11.Attribute) (pkcs11.ObjectHandle, error) {
	if err := t.ctx.FindObjectsInit(s, tmpl); err != nil {
		return 0, fmt.Errorf("%w: find: %w", ErrHSM, err)
	}
	objs, _, err := t.ctx.FindObjects(s, 2)
	_ = t.ctx.FindObjectsFinal(s)
	if err != nil {
		return 0, fmt.Errorf("%w: find: %w", ErrHSM, err)
	}
	if len(objs) == 0 {
		return 0, ErrNotFound
	}
	return objs[0], nil
}

// StoreCertificate stores cert in the token under label, with the CKA_ID of
// the key pair of the same label (C_CreateObject CKO_CERTIFICATE).
func (t *Token) StoreCertificate(label string, cert *x509.Certificate) error {
	return t.with(func(s pkcs11.SessionHandle, _ uint64) error {
		_, err := t.ctx.CreateObject(s, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE),
			pkcs11.NewAttribute(pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKC_X_509),
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
			pkcs11.NewAttribute(pkcs11.CKA_ID, []byte(label)),
			pkcs11.NewAttribute(pkcs11.CKA_SUBJECT, cert.RawSubject),
			pkcs11.NewAttribute(pkcs11.CKA_ISSUER, cert.RawIssuer),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE, cert.Raw),
		})
		if err != nil {
			return fmt.Errorf("%w: store certificate: %w", ErrHSM, err)
		}
		return nil
	})
}

// Certificate reads the certificate stored under label.
func (t *Token) Certificate(label string) (*x509.Certificate, error) {
	var cert *x509.Certificate
	err := t.with(func(s pkcs11.SessionHandle, _ uint64) error {
		obj, err := t.findOne(s, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		})
		if err != nil {
			return fmt.Errorf("certificate %q: %w", label, err)
		}
		attrs, err := t.ctx.GetAttributeValue(s, obj, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)})
		if err != nil {
			return fmt.Errorf("%w: read certificate: %w", ErrHSM, err)
		}
		cert, err = x509.ParseCertificate(attrs[0].Value)
		return err
	})
	return cert, err
}
