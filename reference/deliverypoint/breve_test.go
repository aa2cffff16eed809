package deliverypoint

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/pecspec/pecspec/pec"
)

const withAttachments = "From: a@pec.alpha.test\r\nTo: b@pec.beta.test\r\nSubject: allegati\r\n" +
	"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"OUT\"\r\n\r\n" +
	"preamble\r\n--OUT\r\nContent-Type: text/plain\r\n\r\ntesto\r\n" +
	"--OUT\r\nContent-Type: application/pdf; name=\"atto.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n" +
	"--OUT\r\nContent-Type: multipart/alternative; boundary=\"IN\"\r\n\r\n" +
	"--IN\r\nContent-Type: text/plain\r\n\r\nalt\r\n--IN\r\nContent-Type: image/png\r\n" +
	"Content-Disposition: inline; filename=\"logo, \\\"nuovo\\\".png\"\r\n\r\nPNGDATA\r\n--IN--\r\n" +
	"--OUT\r\nContent-Type: message/rfc822\r\n\r\nSubject: inoltro\r\n\r\ncorpo\r\n--OUT--\r\n"

// TestBreve: named parts and embedded messages become .hash parts with the
// SHA-1 of the transmitted body; the rest and the MIME shape stay.
func TestBreve(t *testing.T) {
	out := breve([]byte(withAttachments))
	e, err := pec.ReadEntity(out)
	if err != nil {
		t.Fatal(err)
	}
	var leaves []*pec.Entity
	var walk func(*pec.Entity)
	walk = func(e *pec.Entity) {
		parts, err := e.Parts()
		if err != nil {
			leaves = append(leaves, e)
			return
		}
		for _, p := range parts {
			walk(p)
		}
	}
	walk(e)
	sum := func(s string) string { h := sha1.Sum([]byte(s)); return hex.EncodeToString(h[:]) }
	want := []struct{ name, body string }{
		{"", "testo"},
		{"atto.pdf.hash", sum("JVBERi0xLjQK")},
		{"", "alt"},
		{`logo, "nuovo".png.hash`, sum("PNGDATA")},
		{"messaggio.eml.hash", sum("Subject: inoltro\r\n\r\ncorpo")},
	}
	if len(leaves) != len(want) {
		t.Fatalf("%d leaves, want %d:\n%s", len(leaves), len(want), out)
	}
	for i, w := range want {
		if leaves[i].Filename() != w.name || strings.TrimSpace(string(leaves[i].Body)) != w.body {
			t.Errorf("leaf %d = %q %q, want %q %q", i, leaves[i].Filename(), leaves[i].Body, w.name, w.body)
		}
		if w.name != "" {
			if ty, _ := leaves[i].MediaType(); ty != "text/plain" {
				t.Errorf("leaf %d is %s, want text/plain", i, ty)
			}
		}
	}
}

// TestBreveKeepsSignedAndEncrypted: BRV-05 and BRV-06.
func TestBreveKeepsSignedAndEncrypted(t *testing.T) {
	p7m := "Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n\r\nMIIB\r\n"
	if got := breve([]byte(p7m)); !bytes.Equal(got, []byte(p7m)) {
		t.Errorf("pkcs7-mime original altered:\n%s", got)
	}
	sig := "Content-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\nMIIS"
	signed := "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=S\r\n\r\n" +
		"--S\r\nContent-Type: multipart/mixed; boundary=M\r\n\r\n--M\r\nContent-Type: text/plain\r\n\r\nciao\r\n" +
		"--M\r\nContent-Type: application/pdf; name=a.pdf\r\n\r\nPDF\r\n--M--\r\n" +
		"\r\n--S\r\n" + sig + "\r\n--S--\r\n"
	e, err := pec.ReadEntity(breve([]byte(signed)))
	if err != nil {
		t.Fatal(err)
	}
	parts, err := e.Parts()
	if err != nil || len(parts) != 2 || string(parts[1].Raw) != sig {
		t.Fatalf("signature part not kept: %v %d", err, len(parts))
	}
	inner, _ := parts[0].Parts()
	if len(inner) != 2 || inner[1].Filename() != "a.pdf.hash" {
		t.Errorf("the signed content's attachment was not hashed")
	}
}

// TestBreveHostile: unreadable or deep input never panics and stays bounded.
func TestBreveHostile(t *testing.T) {
	deep := strings.Repeat("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n", 100)
	for _, in := range []string{"", "\r\n", "Content-Type: multipart/mixed\r\n\r\nno boundary", deep,
		"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain; name=a\r\n\r\ncut"} {
		_ = breve([]byte(in))
	}
}

// FuzzBreve: any original gives an output without panicking, and an
// original the MIME reader accepts keeps its number of leaves.
func FuzzBreve(f *testing.F) {
	f.Add([]byte(withAttachments))
	f.Add([]byte("Content-Type: multipart/signed; boundary=S\r\n\r\n--S\r\n\r\na\r\n--S\r\nContent-Type: application/pkcs7-signature\r\n\r\nx\r\n--S--\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		out := breve(in)
		if len(out) > 2*len(in)+4096*(bytes.Count(in, []byte("\n"))+1) {
			t.Fatalf("output of %d bytes for %d bytes of input", len(out), len(in))
		}
	})
}
