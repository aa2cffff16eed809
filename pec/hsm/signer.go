package hsm

import (
	"crypto"
	"crypto/rsa"
	"fmt"
	"io"
	"math/big"
	"sync"

	"github.com/miekg/pkcs11"
)

// Signer is an RSA private key in the token as a crypto.Signer. Sign uses
// CKM_RSA_PKCS over the DER DigestInfo (PKCS#1 v1.5).
type Signer struct {
	t     *Token
	label string
	pub   *rsa.PublicKey
	mu    sync.Mutex
	key   pkcs11.ObjectHandle // valid in every session of the token's generation gen
	gen   uint64
}

var _ crypto.Signer = (*Signer)(nil)

// digestInfo prefixes of RFC 8017 §9.2 note 1.
var digestInfo = map[crypto.Hash][]byte{
	crypto.SHA1:   {0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14},
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// Public returns the RSA public key.
func (k *Signer) Public() crypto.PublicKey { return k.pub }

// Sign signs digest (already hashed with opts.HashFunc()) inside the token.
func (k *Signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if _, pss := opts.(*rsa.PSSOptions); pss {
		return nil, fmt.Errorf("%w: RSA-PSS is not supported", ErrHSM)
	}
	prefix, ok := digestInfo[opts.HashFunc()]
	if !ok || len(digest) != opts.HashFunc().Size() {
		return nil, fmt.Errorf("%w: unsupported hash %v", ErrHSM, opts.HashFunc())
	}
	var sig []byte
	err := k.t.with(func(s pkcs11.SessionHandle, gen uint64) error {
		key, err := k.handle(s, gen)
		if err != nil {
			return err
		}
		if err := k.t.ctx.SignInit(s, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil)}, key); err != nil {
			return fmt.Errorf("%w: sign init: %w", ErrHSM, err)
		}
		sig, err = k.t.ctx.Sign(s, append(append([]byte{}, prefix...), digest...))
		if err != nil {
			return fmt.Errorf("%w: sign: %w", ErrHSM, err)
		}
		return nil
	})
	return sig, err
}

// handle is the private key's handle in generation gen of the token: found
// again after a recovery (handles do not survive C_Finalize).
func (k *Signer) handle(s pkcs11.SessionHandle, gen uint64) (pkcs11.ObjectHandle, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.key != 0 && k.gen == gen {
		return k.key, nil
	}
	key, err := k.t.findOne(s, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, k.label),
	})
	if err != nil {
		return 0, fmt.Errorf("private key %q: %w", k.label, err)
	}
	k.key, k.gen = key, gen
	return key, nil
}

// GenerateRSAKey generates an RSA key pair inside the token under label: the
// private key is a token object, private, sensitive and never extractable.
func (t *Token) GenerateRSAKey(label string, bits int) (*Signer, error) {
	err := t.with(func(s pkcs11.SessionHandle, _ uint64) error {
		pubT := []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true),
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS_BITS, bits),
			pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, []byte{1, 0, 1}),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
			pkcs11.NewAttribute(pkcs11.CKA_ID, []byte(label)),
		}
		privT := []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
			pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
			pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
			pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
			pkcs11.NewAttribute(pkcs11.CKA_ID, []byte(label)),
		}
		_, _, err := t.ctx.GenerateKeyPair(s, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, nil)},
			pubT, privT)
		if err != nil {
			return fmt.Errorf("%w: generate key pair: %w", ErrHSM, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t.Signer(label)
}

// Signer finds the key pair stored under label.
func (t *Token) Signer(label string) (*Signer, error) {
	k := &Signer{t: t, label: label}
	err := t.with(func(s pkcs11.SessionHandle, gen uint64) error {
		pub, err := t.findOne(s, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		})
		if err != nil {
			return fmt.Errorf("public key %q: %w", label, err)
		}
		attrs, err := t.ctx.GetAttributeValue(s, pub, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS, nil),
			pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, nil),
		})
		if err != nil {
			return fmt.Errorf("%w: read public key: %w", ErrHSM, err)
		}
		k.pub = &rsa.PublicKey{N: new(big.Int).SetBytes(attrs[0].Value),
			E: int(new(big.Int).SetBytes(attrs[1].Value).Int64())}
		_, err = k.handle(s, gen)
		return err
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

// KeyAttributes are the protection attributes of a private key.
type KeyAttributes struct {
	Extractable, Sensitive, Local, NeverExtractable bool
}

// KeyAttributes reads the protection attributes of the private key under
// label (used to prove the key cannot leave the token).
func (t *Token) KeyAttributes(label string) (KeyAttributes, error) {
	var ka KeyAttributes
	err := t.with(func(s pkcs11.SessionHandle, _ uint64) error {
		key, err := t.findOne(s, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		})
		if err != nil {
			return fmt.Errorf("private key %q: %w", label, err)
		}
		attrs, err := t.ctx.GetAttributeValue(s, key, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, nil),
			pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, nil),
			pkcs11.NewAttribute(pkcs11.CKA_LOCAL, nil),
			pkcs11.NewAttribute(pkcs11.CKA_NEVER_EXTRACTABLE, nil),
		})
		if err != nil {
			return fmt.Errorf("%w: read attributes: %w", ErrHSM, err)
		}
		b := func(i int) bool { return len(attrs[i].Value) > 0 && attrs[i].Value[0] != 0 }
		ka = KeyAttributes{Extractable: b(0), Sensitive: b(1), Local: b(2), NeverExtractable: b(3)}
		return nil
	})
	return ka, err
}
