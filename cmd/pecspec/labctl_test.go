package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/reference/lab"
	"github.com/pecspec/pecspec/reference/lab/labtest"
)

// TestLabControl: on a lab started by `pecspec lab up`, `lab stop beta`
// takes beta away (its MX refuses connections, its admin /health does not
// answer) while the lab goes on; `lab start beta` brings it back on the
// same ports and data, and a certified message from alpha reaches bob at
// beta; `lab restart slapd` and `clamd` give new processes with the same
// index; `lab status` lists each state; an unknown name is one line listing
// the names, exit 2; without a lab, exit 2 and the hint. Ctrl-C then stops
// the lab: exit 0, nothing left.
func TestLabControl(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real lab")
	}
	bin, pecref := pecspecBinary(t), labtest.Pecref(t)
	dir, err := os.MkdirTemp("", "pecspec-ctl-") // short: the control socket's path
	if err != nil {
		t.Fatal(err)
	}
	code, _, errOut := dispatchOut(t, "lab", "status", "--dir", dir)
	if code != exitHarness || errOut != "pecspec: no lab running in "+dir+": start one with pecspec lab up --dir "+dir+"\n" {
		t.Errorf("lab status without a lab: exit %d, %q", code, errOut)
	}
	v, up := labUp(t, bin, pecref, dir)
	alpha, beta := party(t, v, "alpha"), party(t, v, "beta")

	c, err := net.DialTimeout("tcp", endpointOf(t, beta, "mx"), 2*time.Second)
	if err != nil {
		t.Fatalf("beta's MX before lab stop beta: %v", err)
	}
	c.Close()
	ctl(t, dir, "stop", "beta")
	if c, err := net.DialTimeout("tcp", endpointOf(t, beta, "mx"), 2*time.Second); err == nil {
		c.Close()
		t.Errorf("beta's MX %s accepts connections after lab stop beta", endpointOf(t, beta, "mx"))
	}
	if health(endpointOf(t, beta, "admin")) == nil {
		t.Error("beta's /health answers after lab stop beta")
	}
	states := status(t, dir)
	if states["beta"] != lab.StateDown || states["alpha"] != lab.StateUp || states["slapd"] != lab.StateUp {
		t.Errorf("status after lab stop beta: %v", states)
	}
	select {
	case <-up.done:
		t.Fatalf("lab up ended when beta was stopped: %s", up.stderr.String())
	default:
	}

	ctl(t, dir, "start", "beta")
	if err := health(endpointOf(t, beta, "admin")); err != nil {
		t.Errorf("beta's /health after lab start beta: %v", err)
	}
	certified(t, v, alpha, beta)

	pids := pidsOf(t, dir)
	ctl(t, dir, "stop", "slapd")
	startBlocked(t, dir, "slapd", strings.TrimPrefix(v.Index, "ldap://"), "slapd.log")
	ctl(t, dir, "start", "slapd")
	ctl(t, dir, "restart", "clamd")
	after := pidsOf(t, dir)
	for _, name := range []string{"slapd", "clamd"} {
		if after[name] == 0 || after[name] == pids[name] {
			t.Errorf("%s pid %d before lab restart, %d after", name, pids[name], after[name])
		}
	}
	indexLists(t, v.Index, "pec.beta.test")

	ctl(t, dir, "stop", "dns") // Ctrl-C below stops a lab with a part down
	code, out, errOut := dispatchOut(t, "lab", "restart", "zeta", "--dir", dir)
	if code != exitHarness || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, `"zeta"`) ||
		!strings.Contains(errOut, "alpha, beta, dovecot-alpha") || !strings.Contains(errOut, "clamd, dns") {
		t.Errorf("lab restart zeta: exit %d, stdout %q, stderr %q; want one line listing the names, exit 2", code, out, errOut)
	}
	up.stop(t)
	if left := labProcesses(dir); len(left) > 0 {
		t.Errorf("processes of the lab after it stopped: %v", left)
	}
	if !t.Failed() {
		os.RemoveAll(dir)
	}
}

// startBlocked: with another listener on its address, the stopped
// component name cannot start: lab start is one line naming its log, exit
// 2, and the component stays down.
func startBlocked(t *testing.T, dir, name, addr, log string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("hold %s's address %s: %v", name, addr, err)
	}
	defer ln.Close()
	code, out, errOut := dispatchOut(t, "lab", "start", name, "--dir", dir)
	if code != exitHarness || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, log) {
		t.Errorf("lab start %s on a taken address: exit %d, %q %q; want one line naming %s, exit 2", name, code, out, errOut, log)
	}
	t.Logf("lab start %s on a taken address: %s", name, strings.TrimSpace(errOut))
	if s := status(t, dir)[name]; s != lab.StateDown {
		t.Errorf("%s after a failed start: %s, want down", name, s)
	}
}

// ctl runs `pecspec lab ACTION NAME --dir DIR`, which must succeed.
func ctl(t *testing.T, dir, action, name string) {
	t.Helper()
	code, out, errOut := dispatchOut(t, "lab", action, name, "--dir", dir)
	if code != exitOK || errOut != "" {
		t.Fatalf("lab %s %s: exit %d, %q %q", action, name, code, out, errOut)
	}
	t.Logf("lab %s %s: %s", action, name, strings.TrimSpace(out))
}

func status(t *testing.T, dir string) map[string]string {
	t.Helper()
	states := map[string]string{}
	for _, c := range statusJSON(t, dir) {
		states[c.Name] = c.State
	}
	return states
}

func pidsOf(t *testing.T, dir string) map[string]int {
	t.Helper()
	pids := map[string]int{}
	for _, c := range statusJSON(t, dir) {
		pids[c.Name] = c.PID
	}
	return pids
}

func statusJSON(t *testing.T, dir string) []lab.ComponentStatus {
	t.Helper()
	code, out, errOut := dispatchOut(t, "lab", "status", "--dir", dir, "--format", "json")
	var resp lab.Response
	if err := json.Unmarshal([]byte(out), &resp); code != exitOK || err != nil {
		t.Fatalf("lab status: exit %d, %v, %q", code, err, errOut)
	}
	return resp.Components
}

// runningLab is a `pecspec lab up` process.
type runningLab struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan struct{}
}

// labUp starts `pecspec lab up --format json` in dir and reads its printout.
func labUp(t *testing.T, bin, pecref, dir string) (lab.View, *runningLab) {
	t.Helper()
	up := &runningLab{cmd: exec.Command(bin, "lab", "up", "--dir", dir, "--pecref", pecref, "--format", "json"),
		stderr: &bytes.Buffer{}, done: make(chan struct{})}
	up.cmd.Stderr = up.stderr
	stdout, err := up.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := up.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { up.cmd.Wait(); close(up.done) }()
	t.Cleanup(func() { up.cmd.Process.Kill(); <-up.done })
	var v lab.View
	decoded := make(chan error, 1)
	go func() { decoded <- json.NewDecoder(stdout).Decode(&v) }()
	select {
	case err := <-decoded:
		if err != nil {
			t.Fatalf("lab up printout: %v; stderr: %s", err, up.stderr.String())
		}
	case <-time.After(90 * time.Second):
		t.Fatalf("lab up printed nothing within 90 s; stderr: %s", up.stderr.String())
	}
	if v.Control == "" {
		t.Fatalf("lab up names no control socket; stderr: %s", up.stderr.String())
	}
	return v, up
}

// stop sends SIGINT, as Ctrl-C does: lab up must end with exit 0.
func (up *runningLab) stop(t *testing.T) {
	t.Helper()
	up.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-up.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("lab up did not end within 30 s of SIGINT")
	}
	if code := up.cmd.ProcessState.ExitCode(); code != exitOK {
		t.Errorf("lab up: exit %d after SIGINT, want 0; stderr: %s", code, up.stderr.String())
	}
}

func party(t *testing.T, v lab.View, name string) lab.Party {
	for _, p := range v.Parties {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("lab up printed no party %s", name)
	return lab.Party{}
}

// endpointOf is host:port of the party's endpoint called name.
func endpointOf(t *testing.T, p lab.Party, name string) string {
	for _, e := range p.Endpoints {
		if e.Name == name {
			u, err := url.Parse(e.URL)
			if err != nil {
				t.Fatal(err)
			}
			return u.Host
		}
	}
	t.Fatalf("%s has no %s endpoint", p.Name, name)
	return ""
}

func health(hostPort string) error {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + hostPort + "/health")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/health at %s: %s", hostPort, resp.Status)
	}
	return nil
}

// certified submits a message from alpha's first account to beta's second
// and waits for its busta di trasporto in beta's IMAPS.
func certified(t *testing.T, v lab.View, alpha, beta lab.Party) {
	t.Helper()
	pem, err := os.ReadFile(v.CA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	ep := func(p lab.Party, name string) probe.Endpoint {
		host, port, _ := net.SplitHostPort(endpointOf(t, p, name))
		n, _ := strconv.Atoi(port)
		return probe.Endpoint{Host: host, Port: n, TLS: probe.TLSImplicit}
	}
	from := probe.Account{Address: alpha.Accounts[0].Address, Password: alpha.Accounts[0].Password}
	to := probe.Account{Address: beta.Accounts[1].Address, Password: beta.Accounts[1].Password}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id, raw := probe.NewOriginal(from.Address, []string{to.Address}, nil, "Dopo lab start", "Buongiorno.\n")
	if err := probe.Submit(ctx, ep(alpha, "submission"), pool, from, from.Address, []string{to.Address}, raw); err != nil {
		t.Fatalf("submit to alpha: %v", err)
	}
	mb, err := probe.OpenMailbox(ctx, ep(beta, "imap"), pool, to)
	if err != nil {
		t.Fatalf("beta IMAPS: %v", err)
	}
	defer mb.Close()
	if _, err := mb.WaitFor(ctx, func(raw []byte) bool {
		m := pec.Parse(raw)
		return m.Kind() == pec.KindTrasporto && m.Header(pec.HeaderRiferimentoMsgID) == id
	}); err != nil {
		t.Errorf("the busta di trasporto of %s at %s: %v", id, to.Address, err)
	}
}

// indexLists: the index at ldapURL still lists domain.
func indexLists(t *testing.T, ldapURL, domain string) {
	t.Helper()
	c, err := ldap.DialURL(ldapURL)
	if err != nil {
		t.Fatalf("index after restart: %v", err)
	}
	defer c.Close()
	res, err := c.Search(ldap.NewSearchRequest("o=postacert", ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 5, false,
		"(managedDomains="+domain+")", []string{"providerName"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Errorf("index after restart: search %s: %v, %v", domain, res, err)
	}
}
