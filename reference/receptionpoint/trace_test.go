package receptionpoint

import (
	"strings"
	"testing"
	"time"
)

func TestTraceNamesTheProtocol(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	tls := string(trace("pec.alpha.test", "127.0.0.1:4242", "pec.beta.test", true, at))
	plain := string(trace("evil (x); y", "[::1]:25", "pec.beta.test", false, at))
	for _, c := range []struct{ got, want string }{
		{tls, "Received: from pec.alpha.test ([127.0.0.1])\r\n\tby pec.beta.test (pecref) with ESMTPS;\r\n\tMon, 23 Nov 2026 10:00:00 +0000\r\n"},
		{plain, "Received: from evilxy ([::1])\r\n\tby pec.beta.test (pecref) with ESMTP;\r\n\tMon, 23 Nov 2026 10:00:00 +0000\r\n"},
	} {
		if c.got != c.want {
			t.Errorf("trace:\n%q\nwant\n%q", c.got, c.want)
		}
		if !strings.HasSuffix(c.got, "\r\n") {
			t.Errorf("trace does not end a header line")
		}
	}
}
