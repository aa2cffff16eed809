package load

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// token names message seq of run id: in its Message-ID, which receipts carry
// back in X-Riferimento-Message-ID (RFC 6109 §2.1.1.1), and in its subject,
// which the busta di trasporto carries (§3.1.5).
func token(run string, seq int64) string {
	return "pecspec-load-" + run + "-" + strconv.FormatInt(seq, 10)
}

var tokenRE = regexp.MustCompile(`pecspec-load-([0-9a-f]{8})-([0-9]+)`)

// parseToken finds a token in s.
func parseToken(s string) (run string, seq int64, ok bool) {
	m := tokenRE.FindStringSubmatch(s)
	if m == nil {
		return "", 0, false
	}
	n, err := strconv.ParseInt(m[2], 10, 64)
	return m[1], n, err == nil
}

// outMsg is one message to submit.
type outMsg struct {
	seq      int64
	from     string
	to       []string
	data     []byte
	intended time.Time
}

// build renders a plain RFC 5322 message of about size bytes (CRLF,
// text/plain, 7bit lines of 76 characters) from from to the recipients, with
// X-TipoRicevuta tipo when not empty.
func build(run string, seq int64, from string, to []string, size int, tipo string) []byte {
	tok := token(run, seq)
	var b bytes.Buffer
	fmt.Fprintf(&b, "Date: %s\r\nFrom: %s\r\nTo: %s\r\nSubject: pecspec load %s\r\nMessage-ID: <%s@probe.pecspec.test>\r\n",
		time.Now().Format(time.RFC1123Z), from, strings.Join(to, ",\r\n "), tok, tok)
	if tipo != "" {
		fmt.Fprintf(&b, "X-TipoRicevuta: %s\r\n", tipo)
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n")
	fmt.Fprintf(&b, "Messaggio di carico di pecspec %s.\r\n", tok)
	line := strings.Repeat("x", 76) + "\r\n"
	for b.Len()+len(line) <= size {
		b.WriteString(line)
	}
	return b.Bytes()
}
