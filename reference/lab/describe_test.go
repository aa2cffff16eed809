package lab_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/reference/lab"
)

// printout: `lab up` prints every mailbox with its password — the
// instances' users, receipts, piena@ and solopec@, the external domain's
// carol and dave — and every endpoint, as tables and as JSON; the
// passwords printed open the mailboxes over IMAPS.
func printout(t *testing.T, l *lab.Lab) {
	var text bytes.Buffer
	l.Describe(&text)
	data, err := json.Marshal(l.View())
	if err != nil {
		t.Fatal(err)
	}
	var v lab.View
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	accounts := map[string]lab.ViewAccount{}
	imap := map[string]string{}
	for _, p := range v.Parties {
		for _, a := range p.Accounts {
			accounts[a.Address] = a
		}
		for _, e := range p.Endpoints {
			if e.Name == "imap" {
				imap[p.Domain] = e.URL
			}
			if !strings.Contains(text.String(), e.URL) {
				t.Errorf("the table lacks %s %s", p.Name, e.URL)
			}
		}
	}
	for _, addr := range []string{"alice@pec.alpha.test", "bob@pec.beta.test", "ricevute@pec.alpha.test", "piena@pec.alpha.test",
		"solopec@pec.beta.test", "carol@posta.esterna.test", "dave@posta.esterna.test"} {
		a, ok := accounts[addr]
		if !ok || a.Password == "" || !strings.Contains(text.String(), addr) || !strings.Contains(text.String(), a.Password) {
			t.Errorf("%s: not printed with its password (%+v)", addr, a)
		}
	}
	if v.DNS == "" || v.Index == "" || v.MXPort == 0 || !strings.Contains(text.String(), "dig @") {
		t.Errorf("the view lacks the DNS, index or MX port: %+v", v)
	}
	_, pool := alpha(t, l)
	for _, addr := range []string{"piena@pec.alpha.test", "carol@posta.esterna.test"} {
		_, domain, _ := strings.Cut(addr, "@")
		u, err := url.Parse(imap[domain])
		if err != nil {
			t.Fatalf("%s: %v", imap[domain], err)
		}
		host, port, _ := net.SplitHostPort(u.Host)
		n, _ := strconv.Atoi(port)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		mb, err := probe.OpenMailbox(ctx, probe.Endpoint{Host: host, Port: n, TLS: probe.TLSImplicit}, pool,
			probe.Account{Address: addr, Password: accounts[addr].Password})
		cancel()
		if err != nil {
			t.Errorf("log in as %s with the printed password at %s: %v", addr, imap[domain], err)
			continue
		}
		mb.Close()
	}
}
