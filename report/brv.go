package report

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	"github.com/pecspec/pecspec/pec"
)

// The breve receipt (RFC 6109 §3.3.2.2): the original with every named part
// and every embedded message replaced by a text/plain "<name>.hash" part
// holding the SHA-1 of the part as 40 hex characters.

var reHash = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)

// leaves walks a MIME tree in order: the non-multipart entities, and a shape
// string of the multipart nesting ("(..(.))") that BRV-01 compares.
func leaves(e *pec.Entity, depth int, out *[]*pec.Entity, shape *strings.Builder) {
	t, _ := e.MediaType()
	if !strings.HasPrefix(t, "multipart/") || depth > pec.MaxDepth {
		*out = append(*out, e)
		shape.WriteByte('.')
		return
	}
	parts, err := e.Parts()
	if err != nil {
		*out = append(*out, e)
		shape.WriteByte('!')
		return
	}
	shape.WriteByte('(')
	for _, p := range parts {
		leaves(p, depth+1, out, shape)
	}
	shape.WriteByte(')')
}

func tree(e *pec.Entity) ([]*pec.Entity, string) {
	var out []*pec.Entity
	var shape strings.Builder
	leaves(e, 0, &out, &shape)
	return out, shape.String()
}

// breve returns the receipt's original when the receipt is a breve one.
func breve(x *Msg) (*pec.Entity, outcome) {
	if receiptTipo(x) != rBreve {
		return nil, na("ricevuta %q, not breve", receiptTipo(x))
	}
	if o := x.original(); o != nil {
		return o, outcome{}
	}
	return nil, fail("breve receipt without the hashed original (postacert.eml)")
}

// isSignaturePart tells the signature part of a multipart/signed original,
// which breve keeps unchanged (BRV-05).
func isSignaturePart(e *pec.Entity) bool {
	t, _ := e.MediaType()
	return t == ctSignature || t == ctSignatureX
}

// isOpaqueSMIME reports whether e is an application/(x-)pkcs7-mime object,
// which a breve receipt leaves intact (RFC 6109 §3.3.2.2, BRV-06).
func isOpaqueSMIME(e *pec.Entity) bool {
	t, _ := e.MediaType()
	return t == "application/pkcs7-mime" || t == "application/x-pkcs7-mime"
}

// hashOf tells which reading of the part a breve hash matches (pec-rules A12):
// the encoded body, the encoded body without its final line break, or the
// decoded content.
func hashOf(orig *pec.Entity, hash string) (string, bool) {
	hash = strings.ToLower(strings.TrimSpace(hash))
	sum := func(b []byte) string { s := sha1.Sum(b); return hex.EncodeToString(s[:]) }
	if sum(orig.Body) == hash {
		return "encoded body", true
	}
	if sum(bytes.TrimRight(orig.Body, "\r\n")) == hash {
		return "encoded body without the final line break", true
	}
	if d, err := orig.Decoded(); err == nil && sum(d) == hash {
		return "decoded content", true
	}
	return "", false
}

// breveAndOriginal finds each breve receipt of the transaction with the
// original the envelope carried.
func (tx *Tx) breveAndOriginal() (pairs [][2]*pec.Entity, o outcome) {
	env := tx.one(pec.KindTrasporto)
	for _, m := range tx.of(pec.KindAvvenutaConsegna) {
		b, _ := breve(m)
		if b == nil {
			continue
		}
		if env == nil || env.original() == nil {
			return nil, na("needs the envelope's postacert.eml to compare with")
		}
		pairs = append(pairs, [2]*pec.Entity{b, env.original()})
	}
	if len(pairs) == 0 {
		return nil, na("no breve receipt in the transaction")
	}
	return pairs, outcome{}
}

func brvTx(id, title string, f func(b, orig *pec.Entity) outcome) Rule {
	return multi(id, "RFC6109 §3.3.2.2", title, func(tx *Tx) outcome {
		pairs, o := tx.breveAndOriginal()
		if pairs == nil {
			return o
		}
		for _, p := range pairs {
			if o = f(p[0], p[1]); o.status != Pass {
				return o
			}
		}
		return o
	})
}

func brvRule(id, title string, f func(b *pec.Entity) outcome) Rule {
	return Rule{ID: id, Level: Must, Section: "RFC6109 §3.3.2.2", Kinds: kinds(pec.KindAvvenutaConsegna), Title: title,
		check: func(x *Msg) outcome {
			b, o := breve(x)
			if b == nil {
				return o
			}
			return f(b)
		}}
}

func init() {
	register(
		brvRule("BRV-02", "breve: every named part is replaced by a text/plain part named <filename>.hash",
			func(b *pec.Entity) outcome {
				ls, _ := tree(b)
				n := 0
				for _, l := range ls {
					name := l.Filename()
					// Signature parts are kept (BRV-05) and an opaque S/MIME
					// object stays whole (BRV-06): neither is hashed.
					if name == "" || isSignaturePart(l) || isOpaqueSMIME(l) {
						continue
					}
					t, _ := l.MediaType()
					if !strings.HasSuffix(strings.ToLower(name), ".hash") || t != "text/plain" {
						return fail("part %q (%s) is not replaced by its hash", name, t)
					}
					n++
				}
				return pass("%d named parts hashed", n)
			}),
		brvRule("BRV-04", "breve: embedded message/rfc822 parts are replaced by their hash",
			func(b *pec.Entity) outcome {
				ls, _ := tree(b)
				for _, l := range ls {
					if t, _ := l.MediaType(); t == "message/rfc822" {
						return fail("embedded message %q kept", l.Filename())
					}
				}
				return pass("no embedded message kept")
			}),
		brvRule("BRV-05", "breve: a multipart/signed original keeps its signature part unchanged",
			func(b *pec.Entity) outcome {
				if t, _ := b.MediaType(); t != "multipart/signed" {
					return na("original is %s", t)
				}
				parts, err := b.Parts()
				if err != nil || len(parts) != 2 {
					return fail("multipart/signed original no longer has two parts")
				}
				if !isSignaturePart(parts[1]) {
					t, _ := parts[1].MediaType()
					return fail("signature part replaced by %s %q", t, parts[1].Filename())
				}
				return pass("signature part kept")
			}),
		brvTx("BRV-01", "breve: the MIME tree of the original is preserved",
			func(b, orig *pec.Entity) outcome {
				_, got := tree(b)
				_, want := tree(orig)
				if got != want {
					return fail("MIME shape %s, original %s", got, want)
				}
				return pass("shape %s", got)
			}),
		brvTx("BRV-03", "breve: each .hash holds 40 hex characters, the SHA-1 of the replaced part",
			func(b, orig *pec.Entity) outcome {
				got, _ := tree(b)
				want, _ := tree(orig)
				if len(got) != len(want) {
					return fail("%d parts, original %d", len(got), len(want))
				}
				var how []string
				for i, l := range got {
					if !strings.HasSuffix(strings.ToLower(l.Filename()), ".hash") {
						continue
					}
					d, err := l.Decoded()
					h := strings.TrimSpace(string(d))
					if err != nil || !reHash.MatchString(h) {
						return fail("%s holds %.60q, not 40 hex characters", l.Filename(), h)
					}
					reading, ok := hashOf(want[i], h)
					if !ok {
						return fail("%s = %s is the SHA-1 of no reading of the original part", l.Filename(), h)
					}
					how = append(how, fmt.Sprintf("%s (%s)", l.Filename(), reading))
				}
				if len(how) == 0 {
					return na("no .hash part")
				}
				return pass("%s", strings.Join(how, ", "))
			}),
		brvTx("BRV-06", "breve: an application/pkcs7-mime original is left intact",
			func(b, orig *pec.Entity) outcome {
				t, _ := orig.MediaType()
				if t != "application/pkcs7-mime" && t != "application/x-pkcs7-mime" {
					return na("original is %s", t)
				}
				if !bytes.Equal(b.Raw, orig.Raw) {
					return fail("the %s original was altered", t)
				}
				return pass("left intact")
			}),
	)
}
