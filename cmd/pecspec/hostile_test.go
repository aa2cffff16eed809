package main

import (
	"bufio"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pecspec/pecspec/internal/testnet"
	"github.com/pecspec/pecspec/probe"
)

// TestHostileTarget: `pecspec run` against a target whose submission
// endpoint sends "220-" lines without end, or whose IMAP endpoint sends one
// endless line, exits 2 within 60 s with one line naming the endpoint and a
// hint, and its resident memory stays bounded (issue 15: 12.6 GB in 61 s
// before the bounds). Run past the preflight (--no-preflight), the same
// target ends the scenario in error, never a failure: exit 2, naming it.
func TestHostileTarget(t *testing.T) {
	bin := pecspecBinary(t)
	endlessSMTP := serveLoopback(t, func(c net.Conn) { flood(c, "220-pecspec hostile\r\n") })
	endlessIMAP := serveLoopback(t, func(c net.Conn) { flood(c, "* OK "+strings.Repeat("x", 1000)) })
	smtp := serveLoopback(t, fakeSubmission)
	for _, tc := range []struct {
		name             string
		submission, imap string
		args             []string
		bad              string // the endpoint the reason names
	}{
		{"submission", endlessSMTP, smtp, nil, endlessSMTP},
		{"imap", smtp, endlessIMAP, nil, endlessIMAP},
		{"scenario", endlessSMTP, smtp, []string{"--no-preflight"}, endlessSMTP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := hostileTarget(t, dir, tc.submission, tc.imap, smtp)
			args := append([]string{"run", "--target", file, "--out", filepath.Join(dir, "out"),
				"--answer-timeout", "5s", "--tags", "@APC-01"}, tc.args...)
			cmd := exec.Command(bin, args...)
			start := time.Now()
			out, _ := cmd.CombinedOutput()
			took := time.Since(start)
			rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			last := lines[len(lines)-1]
			t.Logf("exit %d in %v, max RSS %d MiB: %s", cmd.ProcessState.ExitCode(), took.Round(time.Millisecond), rss>>10, last)
			if code := cmd.ProcessState.ExitCode(); code != exitHarness {
				t.Errorf("exit %d, want 2:\n%s", code, out)
			}
			if tc.args == nil && (len(lines) != 1 || !strings.Contains(last, "hint:")) {
				t.Errorf("want one line with a hint:\n%s", out)
			}
			if !strings.Contains(last, tc.bad) || !strings.Contains(last, "more than the protocol allows") {
				t.Errorf("the reason does not name %s and the bound: %s", tc.bad, last)
			}
			if took > 60*time.Second {
				t.Errorf("took %v", took)
			}
			if rss > 256<<10 {
				t.Errorf("max RSS %d MiB", rss>>10)
			}
		})
	}
}

// hostileTarget writes a target file whose endpoints (TLS none) are
// submission, imap and mx, for itself and its counterpart.
func hostileTarget(t *testing.T, dir, submission, imap, mx string) string {
	tg := &probe.Target{Name: "hostile", ProviderName: "Hostile PEC", Domains: []string{"pec.hostile.test"},
		ServiceAddress:  "posta-certificata@pec.hostile.test",
		ReceiptsMailbox: probe.Account{Address: "ricevute@pec.hostile.test", Password: "x"},
		Submission:      endpoint(submission, "none"), IMAP: endpoint(imap, "none"), MX: endpoint(mx, "none"),
		Accounts: []probe.Account{{Address: "alice@pec.hostile.test", Password: "x"}, {Address: "bob@pec.hostile.test", Password: "x"}}}
	cp := *tg
	cp.Name, cp.Domains = "other", []string{"pec.other.test"}
	cp.Accounts = []probe.Account{{Address: "alice@pec.other.test", Password: "x"}, {Address: "bob@pec.other.test", Password: "x"}}
	tg.Counterpart = &cp
	file := filepath.Join(dir, "hostile.yaml")
	if err := tg.Save(file); err != nil {
		t.Fatal(err)
	}
	return file
}

// serveLoopback serves every connection with serve until the test ends.
func serveLoopback(t *testing.T, serve func(c net.Conn)) string {
	return testnet.Loopback(t, serve).Addr().String()
}

// flood writes line again and again until the client goes away.
func flood(c net.Conn, line string) {
	chunk := []byte(strings.Repeat(line, 64<<10/len(line)+1))
	for {
		if _, err := c.Write(chunk); err != nil {
			return
		}
	}
}

// fakeSubmission is an SMTP server that takes any AUTH and any message.
func fakeSubmission(c net.Conn) {
	r := bufio.NewReader(c)
	reply := func(s string) bool { _, err := c.Write([]byte(s)); return err == nil }
	if !reply("220 fake ESMTP\r\n") {
		return
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
		case strings.HasPrefix(cmd, "EHLO"):
			reply("250-fake\r\n250 AUTH PLAIN\r\n")
		case strings.HasPrefix(cmd, "AUTH"):
			reply("235 ok\r\n")
		case cmd == "QUIT":
			reply("221 bye\r\n")
			return
		default:
			reply("250 ok\r\n")
		}
	}
}
