package lab_test

import (
	"context"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pecspec/pecspec/reference/lab"
)

// daemonsRestart: slapd and clamd killed with SIGKILL come back on the same
// address and data (the index still lists beta), and the instances' /health
// is ok again without restarting them.
func daemonsRestart(t *testing.T, l *lab.Lab) {
	for _, name := range []string{lab.DaemonSlapd, lab.DaemonClamd} {
		pid := l.DaemonPid(name)
		if err := l.KillDaemon(name); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := l.RestartDaemon(ctx, name)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if l.DaemonPid(name) == pid {
			t.Errorf("%s: the same process %d after a restart", name, pid)
		}
		for _, in := range l.Providers {
			if err := healthy(in, 10*time.Second); err != nil {
				t.Errorf("%s after %s restarted: %v", in.Name, name, err)
			}
		}
	}
	out, err := exec.Command("ldapsearch", "-x", "-LLL", "-H", l.LDAPURL, "-b", "o=postacert",
		"(managedDomains=pec.beta.test)", "providerName").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Reference Beta") {
		t.Errorf("index after slapd's restart: %v\n%s", err, out)
	}
	if err := l.RestartDaemon(context.Background(), lab.DaemonClamd); err == nil {
		t.Error("RestartDaemon of a running clamd succeeded")
	}
	if err := l.KillDaemon("dovecot"); err == nil {
		t.Error("KillDaemon of an unknown daemon succeeded")
	}
}

// healthy polls in's /health until it answers 200 or limit passes.
func healthy(in *lab.Instance, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	url := "http://127.0.0.1:" + strconv.Itoa(in.Ports.Admin) + "/health"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = &statusError{resp.Status}
		}
		if ctx.Err() != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond) // polling the instance
	}
}

type statusError struct{ status string }

func (e *statusError) Error() string { return "health: " + e.status }
