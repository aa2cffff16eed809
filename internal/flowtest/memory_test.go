package flowtest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pecspec/pecspec/reference/lab"
)

// rssBound is the issue-17 bound on a pecref's peak resident memory: 64 MiB
// (the largest message the servers take, which the MX maps read-only from
// its spool file while it verifies it) plus a fixed 24 MiB for everything
// else (the Go runtime and heap of an idle instance, measured at 25 MiB peak
// after a 500-recipient message, TLS sessions, 64 kB buffers per
// connection). It does not grow with the size or the number of messages in
// flight: DATA is spooled to disk, never held.
const rssBound = (64 + 24) << 10 // KiB

// TestRefusedTransfersStayBounded: 16 clients send 70 MB each to alpha's
// MX at once, without SIZE (issue 15: this took alpha to 1.27 GB). Each
// transfer is spooled to disk as it arrives and refused with 552 once it
// passes the 64 MiB limit; alpha's peak RSS stays under rssBound.
func TestRefusedTransfersStayBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 1.1 GB over loopback")
	}
	h := newHarness(t)
	a, _, alice, _, _, _ := names(h.l)
	fmt.Println(refusedTransfers(t, a, alice.Address, 16, 70<<20))
	if kb := vmHWM(t, a.Pid()); kb > rssBound {
		t.Errorf("alpha peak RSS %d MiB after 16 refused 70 MB transfers, bound %d MiB", kb>>10, rssBound>>10)
	}
}

// refusedTransfers sends n messages of size bytes to in's MX at once, over
// plain SMTP without SIZE, and checks each is refused with 552. It returns
// a line with the figures.
func refusedTransfers(t testing.TB, in *lab.Instance, rcpt string, n, size int) string {
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- oversized(in.MXAddr(), rcpt, size, i)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	return fmt.Sprintf("%d refused transfers of %d MB at once in %v: %s peak RSS %d MiB", n, size>>20,
		time.Since(start).Round(time.Millisecond), in.Name, vmHWM(t, in.Pid())>>10)
}

// oversized sends one message of size bytes and expects 552 at its end.
func oversized(addr, rcpt string, size, i int) error {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Minute))
	r := bufio.NewReader(c)
	for _, cmd := range []string{"", "EHLO flood.test", "MAIL FROM:<flood@posta.esterna.test>",
		"RCPT TO:<" + rcpt + ">", "DATA"} {
		if cmd != "" {
			fmt.Fprintf(c, "%s\r\n", cmd)
		}
		if _, err := smtpReply(r); err != nil {
			return fmt.Errorf("transfer %d, %q: %v", i, cmd, err)
		}
	}
	line := bytes.Repeat([]byte("x"), 998)
	line = append(line, "\r\n"...)
	w := bufio.NewWriterSize(c, 64<<10)
	fmt.Fprintf(w, "Subject: flood %d\r\n\r\n", i)
	for sent := 0; sent < size; sent += len(line) {
		if _, err := w.Write(line); err != nil {
			break // the server may close once it refused
		}
	}
	w.WriteString(".\r\n")
	w.Flush()
	code, err := smtpReply(r)
	if err != nil {
		return fmt.Errorf("transfer %d: %v", i, err)
	}
	if code != 552 {
		return fmt.Errorf("transfer %d of %d bytes: reply %d, want 552", i, size, code)
	}
	return nil
}

// smtpReply reads one (multi-line) SMTP reply and returns its code; 4xx/5xx
// before DATA's end is an error.
func smtpReply(r *bufio.Reader) (int, error) {
	for {
		line, err := r.ReadString('\n')
		if err != nil && err != io.EOF {
			return 0, err
		}
		if len(line) < 4 {
			return 0, fmt.Errorf("short reply %q", line)
		}
		code, cerr := strconv.Atoi(line[:3])
		if cerr != nil {
			return 0, fmt.Errorf("reply %q", line)
		}
		if line[3] == '-' {
			continue
		}
		if code >= 400 && code != 552 {
			return code, fmt.Errorf("reply %q", strings.TrimSpace(line))
		}
		return code, nil
	}
}
