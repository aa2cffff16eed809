package lab_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/reference/lab"
	"github.com/pecspec/pecspec/reference/lab/labtest"
)

// putYAML is an enrolment file for the quick start: the lab makes the
// signing key and both certificates.
const putYAML = `name: acme
provider_name: ACME Posta Certificata
domains: [pec.acme.test]
service_address: posta-certificata@pec.acme.test
receipts_mailbox: {address: ricevute@pec.acme.test, password: r1}
submission: {host: 127.0.0.9, port: 20465, tls: implicit}
imap: {host: 127.0.0.9, port: 20993, tls: implicit}
mx: {host: 127.0.0.9, port: 20025}
accounts:
  - {address: mario.rossi@pec.acme.test, name: alice, username: mrossi, password: a1}
  - {address: bob@pec.acme.test, password: b1}
capabilities: [controllable-clock]
issue:
  signing_key: true
  tls: [127.0.0.9, mx.pec.acme.test]
`

// TestEnrol starts a lab with a provider under test enrolled in the quick
// start (lab-made key), on the fixed port layout, and checks what the PUT is
// given: the documented ports, DIR/put/ (certificates that verify with
// openssl against the bundle, the combined signed index, routes), the PUT in
// slapd and in the DNS, a target file the probe loads; and that a second
// lab up on the same directory is refused without touching it.
func TestEnrol(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real lab")
	}
	src := t.TempDir()
	file := filepath.Join(src, "put.yaml")
	if err := os.WriteFile(file, []byte(putYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	l := labtest.UpWith(t, lab.Options{Enrol: file, Ports: labtest.FreeBase})
	t.Run("Layout", func(t *testing.T) { layoutIsFixed(t, l) })
	t.Run("PutDir", func(t *testing.T) { putDirVerifies(t, l) })
	t.Run("IndexAndDNS", func(t *testing.T) { indexAndDNS(t, l) })
	t.Run("TargetFile", func(t *testing.T) { putTargetLoads(t, l, file) })
	t.Run("SecondLabRefused", func(t *testing.T) { secondLabRefused(t, l, file) })
	t.Run("Restart", func(t *testing.T) { restartKeeps(t, l, file) })
}

// restartKeeps: a lab restarted in the same directory with the same --ports
// has the same endpoints, CA and PUT certificates: the PUT's configuration
// survives it.
func restartKeeps(t *testing.T, l *lab.Lab, file string) {
	put := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join(l.Dir, "put", name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	before := map[string][]byte{}
	for _, f := range []string{"ca.pem", "signer.pem", "signer.key", "tls.pem", "tls.key"} {
		before[f] = put(f)
	}
	base := portOf(t, strings.TrimPrefix(l.LDAPURL, "ldap://")) - 1
	sub := l.Provider("alpha").Ports.Submission
	if err := l.Down(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l2, err := lab.Up(ctx, lab.Options{Dir: l.Dir, Enrol: file, Ports: base, Pecref: labtest.Pecref(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Down()
	for f, data := range before {
		if !bytes.Equal(put(f), data) {
			t.Errorf("put/%s changed across the restart", f)
		}
	}
	if l2.Provider("alpha").Ports.Submission != sub {
		t.Errorf("alpha submission moved from %d to %d", sub, l2.Provider("alpha").Ports.Submission)
	}
}

func layoutIsFixed(t *testing.T, l *lab.Lab) {
	var base int
	url := strings.TrimPrefix(l.LDAPURL, "ldap://127.0.0.1:")
	if n, err := strconv.Atoi(url); err != nil {
		t.Fatalf("LDAP URL %s", l.LDAPURL)
	} else {
		base = n - 1
	}
	a, b := l.Provider("alpha"), l.Provider("beta")
	for what, got := range map[string][2]int{
		"DNS": {portOf(t, l.DNS.Addr), base}, "MX": {a.Ports.MX, base + 2}, "beta MX": {b.Ports.MX, base + 2},
		"alpha submission": {a.Ports.Submission, base + 10}, "alpha IMAPS": {a.Ports.IMAP, base + 11},
		"alpha admin": {a.Ports.Admin, base + 13}, "beta submission": {b.Ports.Submission, base + 20},
		"beta admin": {b.Ports.Admin, base + 23}, "external IMAPS": {l.External.Ports.IMAP, base + 31},
	} {
		if got[0] != got[1] {
			t.Errorf("%s port %d, want BASE+%d = %d", what, got[0], got[1]-base, got[1])
		}
	}
	for host, want := range map[string]string{a.MXHost: "127.0.0.2", b.MXHost: "127.0.0.3", l.Peer.MXHost: "127.0.0.4",
		l.External.MXHost: "127.0.0.5"} {
		if host != want {
			t.Errorf("MX address %s, want %s", host, want)
		}
	}
}

func portOf(t *testing.T, addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("%s: %v", addr, err)
	}
	return n
}

func putDirVerifies(t *testing.T, l *lab.Lab) {
	put := func(name string) string { return filepath.Join(l.Dir, "put", name) }
	for _, cert := range []string{"signer.pem", "tls.pem"} {
		if out, err := exec.Command("openssl", "verify", "-CAfile", put("ca.pem"), "-purpose", "any", put(cert)).CombinedOutput(); err != nil {
			t.Errorf("openssl verify %s: %v\n%s", cert, err, out)
		}
	}
	out, err := exec.Command("openssl", "x509", "-in", put("tls.pem"), "-noout", "-ext", "subjectAltName").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "IP Address:127.0.0.9") || !strings.Contains(string(out), "DNS:mx.pec.acme.test") {
		t.Errorf("TLS certificate SAN: %v\n%s", err, out)
	}
	out, err = exec.Command("openssl", "cms", "-verify", "-inform", "DER", "-in", put("index/index.ldif.p7m"),
		"-CAfile", put("ca.pem"), "-purpose", "any").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl cms -verify index.ldif.p7m: %v\n%s", err, out)
	}
	for _, name := range []string{"Reference Alpha", "Reference Beta", "Gamma Scriptable Peer", "ACME Posta Certificata"} {
		if !bytes.Contains(out, []byte("providerName: "+name)) {
			t.Errorf("the combined index lacks %s", name)
		}
	}
	for _, f := range []string{"ca.crl", "signer.key", "tls.key", "put.ldif", "put.ldif.p7m", "routes.yaml", "transport",
		"CHECKLIST.txt", "index/alpha.ldif.p7m", "index/beta.ldif.p7m", "index/gamma.ldif.p7m", "index/index.ldif"} {
		if st, err := os.Stat(put(f)); err != nil || st.Size() == 0 {
			t.Errorf("put/%s: %v", f, err)
		}
	}
	var view struct {
		DNS    string            `yaml:"dns"`
		MXPort int               `yaml:"mx_port"`
		LabMX  map[string]string `yaml:"lab_mx"`
	}
	data, _ := os.ReadFile(put("lab.yaml"))
	if err := yaml.Unmarshal(data, &view); err != nil || view.DNS != l.DNS.Addr || view.LabMX["pec.beta.test"] != l.Provider("beta").MXAddr() {
		t.Errorf("put/lab.yaml: %v %+v", err, view)
	}
	transport, _ := os.ReadFile(put("transport"))
	if !strings.Contains(string(transport), "pec.beta.test smtp:[127.0.0.3]:") || strings.Contains(string(transport), "pec.acme.test") {
		t.Errorf("put/transport:\n%s", transport)
	}
}

func indexAndDNS(t *testing.T, l *lab.Lab) {
	out, err := exec.Command("ldapsearch", "-x", "-LLL", "-H", l.LDAPURL, "-b", "o=postacert",
		"(managedDomains=pec.acme.test)", "providerName", "mailReceipt").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "providerName: ACME Posta Certificata") ||
		!strings.Contains(string(out), "mailReceipt: ricevute@pec.acme.test") {
		t.Errorf("ldapsearch: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res := l.DNS.Resolver()
	for domain, ip := range map[string]string{"pec.acme.test": "127.0.0.9", "pec.beta.test": "127.0.0.3",
		"pec.gamma.test": "127.0.0.4", lab.ExternalDomain: "127.0.0.5"} {
		mx, err := res.LookupMX(ctx, domain)
		if err != nil || len(mx) != 1 || mx[0].Host != "mx."+domain+"." {
			t.Errorf("MX %s: %v %v", domain, mx, err)
			continue
		}
		if ips, err := res.LookupHost(ctx, mx[0].Host); err != nil || len(ips) != 1 || ips[0] != ip {
			t.Errorf("A %s: %v %v, want %s", mx[0].Host, ips, err, ip)
		}
	}
	if _, err := res.LookupMX(ctx, "pec.nowhere.test"); err == nil {
		t.Error("the lab's DNS answers for a domain it does not hold")
	}
}

func putTargetLoads(t *testing.T, l *lab.Lab, file string) {
	lt, err := probe.LoadTarget(l.TargetFileOf(lab.PUTTarget))
	if err != nil {
		t.Fatal(err)
	}
	if lt.Counterpart == nil || lt.Counterpart.Name != "beta" || lt.Peer == nil || lt.External == nil || lt.Lab == nil {
		t.Fatalf("target-put.yaml lacks the lab's parties: %+v", lt)
	}
	if got := lt.Lab.Routes["pec.acme.test"]; got != "127.0.0.9:20025" {
		t.Errorf("the lab routes pec.acme.test to %q", got)
	}
	if a, _ := lt.Account("alice"); a.Login() != "mrossi" || a.Address != "mario.rossi@pec.acme.test" {
		t.Errorf("alice logs in as %q (%s)", a.Login(), a.Address)
	}
	own, err := probe.LoadTarget(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := own.UseLab(lt); err != nil {
		t.Fatal(err)
	}
	if own.Counterpart.Submission != lt.Counterpart.Submission || own.Trust != lt.Path(lt.Trust) || own.LDAPURL != l.LDAPURL {
		t.Errorf("UseLab: counterpart %v trust %s index %s", own.Counterpart.Submission, own.Trust, own.LDAPURL)
	}
	if _, err := os.Stat(own.Peer.TLSCert); err != nil {
		t.Errorf("peer path not resolved against the lab: %v", err)
	}
}

func secondLabRefused(t *testing.T, l *lab.Lab, file string) {
	before, err := os.ReadFile(filepath.Join(l.Dir, "put", "signer.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pid, ok := lab.Running(l.Dir)
	if !ok || pid != os.Getpid() {
		t.Fatalf("Running(%s) = %d, %v; want this process", l.Dir, pid, ok)
	}
	_, err = lab.Up(context.Background(), lab.Options{Dir: l.Dir, Enrol: file, Pecref: labtest.Pecref(t)})
	if !errors.Is(err, lab.ErrRunning) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Errorf("second lab up: %v, want ErrRunning with the PID", err)
	}
	after, err := os.ReadFile(filepath.Join(l.Dir, "put", "signer.pem"))
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("the second lab up touched the directory: %v", err)
	}
}
