package smime_test

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/pec/smime"
)

// TestSignToVerifies: a message streamed by SignTo verifies like one built by
// Sign, also with bare LFs split across writes (made CRLF in the signed bytes).
func TestSignToVerifies(t *testing.T) {
	cert, key, _, roots := testPKI(t)
	var out bytes.Buffer
	parts := []string{"Content-Type: text/plain\r\n\r\nline one\n", "\nline three\r", "\nend\n"}
	err := smime.SignTo(&out, []smime.Field{{Name: "Subject", Value: "stream"}}, func(w io.Writer) error {
		for _, p := range parts {
			if _, err := w.Write([]byte(p)); err != nil {
				return err
			}
		}
		return nil
	}, cert, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, s, err := smime.VerifyMessage(out.Bytes(), roots, time.Now()); err != nil {
		t.Fatalf("verify: %v", err)
	} else if want := "Content-Type: text/plain\r\n\r\nline one\r\n\r\nline three\r\nend\r\n"; string(s.Content.Raw) != want {
		t.Errorf("signed content %q, want %q", s.Content.Raw, want)
	}
	if !pec.IsCanonical(out.Bytes()) {
		t.Error("the message has a bare LF")
	}
}
