package probe

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"net"
	"os"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/pecspec/pecspec/internal/testnet"
)

// Hostile targets for the bounds tests: loopback servers that send without
// end, announce huge literals or drip. Each returns its endpoint; its
// connections end with the test.

// hostile serves every connection with serve until the test ends.
func hostile(t *testing.T, tlsMode string, serve func(c net.Conn)) Endpoint {
	t.Helper()
	return Endpoint{Host: "127.0.0.1", Port: testnet.Port(testnet.Loopback(t, serve)), TLS: tlsMode}
}

// endless writes head, then chunks of line (or of 'x' when line is empty)
// until the client goes away.
func endless(c net.Conn, head, line string) {
	if line == "" {
		line = strings.Repeat("x", 1024)
	}
	chunk := []byte(strings.Repeat(line, 64<<10/len(line)))
	if _, err := c.Write([]byte(head)); err != nil {
		return
	}
	for {
		if _, err := c.Write(chunk); err != nil {
			return
		}
	}
}

// drip writes s one octet every 100 ms, again and again, until the client
// goes away.
func drip(c net.Conn, s string) {
	for i := 0; ; i++ {
		if _, err := c.Write([]byte{s[i%len(s)]}); err != nil {
			return
		}
		time.Sleep(100 * time.Millisecond) // the hostile server's own pace, not a wait of the test
	}
}

// afterLine sends greeting, reads the client's first line, then runs then.
func afterLine(greeting string, then func(c net.Conn)) func(c net.Conn) {
	return func(c net.Conn) {
		if _, err := c.Write([]byte(greeting)); err != nil {
			return
		}
		if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
			return
		}
		then(c)
	}
}

// overTLS runs serve on the TLS server side of c.
func overTLS(cfg *tls.Config, serve func(c net.Conn)) func(c net.Conn) {
	return func(c net.Conn) {
		tc := tls.Server(c, cfg)
		if tc.Handshake() == nil {
			serve(tc)
		}
	}
}

// imapStartTLSThen answers STARTTLS (tag S, as the probe sends it), then
// runs serve over TLS.
func imapStartTLSThen(cfg *tls.Config, serve func(c net.Conn)) func(c net.Conn) {
	return afterLine("* OK [CAPABILITY IMAP4rev1 STARTTLS] hostile\r\n", func(c net.Conn) {
		if _, err := c.Write([]byte("S OK begin TLS\r\n")); err == nil {
			overTLS(cfg, serve)(c)
		}
	})
}

// heapGrowth runs f while sampling the live heap every 5 ms and returns
// how far it rose above its level before f.
func heapGrowth(f func()) uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(s); return s[0].Value.Uint64() }
	base, peak := read(), uint64(0)
	done, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, read())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(done)
	<-sampled
	if peak < base {
		return 0
	}
	return peak - base
}

// vmHWM is the process's peak resident set (/proc/self/status), for the log.
func vmHWM() string {
	data, _ := os.ReadFile("/proc/self/status")
	for _, l := range bytes.Split(data, []byte("\n")) {
		if v, ok := bytes.CutPrefix(l, []byte("VmHWM:")); ok {
			return string(bytes.TrimSpace(v))
		}
	}
	return "?"
}
