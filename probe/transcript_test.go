package probe

import (
	"context"
	"strings"
	"testing"
)

// record feeds a recorder chunk by chunk, as a DebugWriter gets them (both
// directions in one stream, lines split across writes).
func record(proto string, chunks ...string) string {
	var ts Transcripts
	r := newRecorder(WithTranscripts(context.Background(), &ts), proto, "127.0.0.1:1")
	for _, c := range chunks {
		_, _ = r.Write([]byte(c))
	}
	return ts.Sessions()[0].Text
}

func TestTranscriptSMTP(t *testing.T) {
	got := record("smtp",
		"220 mx ESMTP\r\n", "EHLO probe\r\n", "250-mx\r\n250 AUTH PLAIN\r\n",
		"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n", "235 2.7.0 ok\r\n",
		"AUTH LOGIN\r\n", "334 VXNlcm5hbWU6\r\n", "YWxpY2U=\r\n", "334 UGFzc3dvcmQ6\r\n", "c2VjcmV0\r\n", "235 ok\r\n",
		"MAIL FROM:<a@x> SIZE=40\r\n", "250 ok\r\n", "DATA\r\n", "354 go\r\n",
		"Subject: x\r\n\r\n250 looks like a reply\r\n", "secret body\r\n.\r\n", "250 2.0.0 queued\r\n")
	want := "S: 220 mx ESMTP\nC: EHLO probe\nS: 250-mx\nS: 250 AUTH PLAIN\n" +
		"C: AUTH PLAIN ****\nS: 235 2.7.0 ok\n" +
		"C: AUTH LOGIN\nS: 334 VXNlcm5hbWU6\nC: ****\nS: 334 UGFzc3dvcmQ6\nC: ****\nS: 235 ok\n" +
		"C: MAIL FROM:<a@x> SIZE=40\nS: 250 ok\nC: DATA\nS: 354 go\nC: [51 octets of message]\nC: .\nS: 250 2.0.0 queued\n"
	if got != want {
		t.Errorf("transcript:\n%s\nwant:\n%s", got, want)
	}
	for _, secret := range []string{"AGFsaWNl", "YWxpY2U", "c2VjcmV0", "secret body"} {
		if strings.Contains(got, secret) {
			t.Errorf("the transcript keeps %q", secret)
		}
	}
}

func TestTranscriptIMAP(t *testing.T) {
	got := record("imap",
		"* OK ready\r\n", "T1 LOGIN \"alice@x\" \"s3cret\"\r\n", "T1 OK logged in\r\n",
		"T2 LOGIN {7}\r\n", "+ go\r\n", "alice@x {6}\r\n", "+ go\r\n", "s3cret\r\n", "T2 OK\r\n",
		"T3 FETCH 1:* (UID BODY.PEEK[])\r\n", "* 1 FETCH (UID 4 BODY[] {12}\r\nSubject: x\r\n)\r\n", "T3 OK done\r\n",
		"T4 AUTHENTICATE PLAIN\r\n", "+ \r\n", "AGFsaWNlAHMzY3JldA==\r\n", "T4 OK\r\n")
	want := "S: * OK ready\nC: T1 LOGIN \"alice@x\" ****\nS: T1 OK logged in\n" +
		"C: T2 LOGIN **** ****\nS: + go\nC:   ****\nC:  {6}\nS: + go\nC:   ****\nC: \nS: T2 OK\n" +
		"C: T3 FETCH 1:* (UID BODY.PEEK[])\nS: * 1 FETCH (UID 4 BODY[] {12}\nS:   [12 octets]\nS: )\nS: T3 OK done\n" +
		"C: T4 AUTHENTICATE PLAIN\nS: + \nC: ****\nS: T4 OK\n"
	if got != want {
		t.Errorf("transcript:\n%s\nwant:\n%s", got, want)
	}
	if strings.Contains(got, "s3cret") || strings.Contains(got, "AGFsaWNl") {
		t.Error("the transcript keeps the password")
	}
}

func TestTranscriptBounded(t *testing.T) {
	var chunks []string
	for range 2000 {
		chunks = append(chunks, "NOOP\r\n", "250 2.0.0 ok\r\n")
	}
	got := record("smtp", chunks...)
	if len(got) > MaxTranscript+100 || !strings.HasSuffix(got, "more octets of transcript not kept]\n") {
		t.Errorf("a long session kept %d bytes, ending %q", len(got), got[len(got)-60:])
	}
}
