package main

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pecspec/pecspec/pec/hsm"
	"github.com/pecspec/pecspec/reference/index"
	"github.com/pecspec/pecspec/reference/lab"
	"github.com/pecspec/pecspec/reference/lab/labtest"
	"github.com/pecspec/pecspec/reference/provider"
	"github.com/pecspec/pecspec/scenarios"
)

// blackBox is a provider under test the lab knows only through its
// enrolment file: a pecref process this test starts itself, with its own
// SoftHSM token (signing key generated inside, certificate issued by the lab
// from its CSR), its own clamd, and a configuration written only from the
// files the lab left in DIR/put/ — as a provider would configure its own
// system. It routes by the lab's DNS alone (no static route), and its users
// read their mail from its own Dovecot (IMAPS and POP3S), as the lab's
// instances do.
type blackBox struct {
	bbSpec
	dir, file              string // its own directory and enrolment file
	sub, imap, pop3, admin int
	tokenConf, pin         string
	clamd                  *lab.Clamd
	spec                   lab.DovecotSpec // its Dovecot, on the Maildirs pecref delivers to
	dovecot                *lab.Dovecot
	proc                   *lab.Proc
	accounts               map[string]string // address → password
	receipts, adminAuth    string
}

// bbSpec names a black-box provider: its name (token and key labels follow
// it), its one domain, and its address (MX on the lab's MX port, the rest
// on free ports).
type bbSpec struct{ name, domain, host string }

var acme = bbSpec{"acme", "pec.acme.test", "127.0.0.9"}

// providerName is the black box's providerName (index, certificate).
func (s bbSpec) providerName() string { return strings.ToUpper(s.name) + " Posta Certificata" }

func (s bbSpec) keyLabel() string { return s.name + "-signing" }

// newBlackBox makes acme's token, key and CSR.
func newBlackBox(t *testing.T) *blackBox { return newBlackBoxAs(t, acme) }

// newBlackBoxAs makes the token, key and CSR of the black box s.
func newBlackBoxAs(t *testing.T, s bbSpec) *blackBox {
	b := &blackBox{bbSpec: s, dir: t.TempDir(), pin: "4321", receipts: "r-" + strconv.Itoa(os.Getpid()),
		adminAuth: "t-" + s.name, accounts: map[string]string{"alice@" + s.domain: "pw-alice", "bob@" + s.domain: "pw-bob",
			"infetto@" + s.domain: "pw-infetto"}}
	b.file = filepath.Join(b.dir, s.name+".yaml")
	var err error
	if b.tokenConf, err = hsm.WriteSoftHSMConf(filepath.Join(b.dir, "softhsm")); err != nil {
		t.Fatal(err)
	}
	if err := hsm.InitSoftHSMToken(b.tokenConf, s.name, "87654321", b.pin); err != nil {
		t.Fatal(err)
	}
	tok := b.token(t)
	defer tok.Close()
	key, err := tok.GenerateRSAKey(s.keyLabel(), 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{Organization: []string{s.providerName()}, CommonName: strings.ToUpper(s.name)}}, key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(b.dir, "signer.csr"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	for _, p := range []*int{&b.sub, &b.imap, &b.pop3, &b.admin} {
		l, err := net.Listen("tcp", b.host+":0")
		if err != nil {
			t.Fatal(err)
		}
		*p = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	return b
}

func (b *blackBox) token(t *testing.T) *hsm.Token {
	tok, err := hsm.Open(hsm.Config{SoftHSMConf: b.tokenConf, TokenLabel: b.name, PIN: b.pin, Sessions: 1})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// writeEnrolment writes the enrolment file for a lab whose MX port is mxPort.
func (b *blackBox) writeEnrolment(t *testing.T, mxPort int) {
	body := fmt.Sprintf(`name: %[9]s
provider_name: %[10]s
domains: [%[1]s]
service_address: posta-certificata@%[1]s
receipts_mailbox: {address: ricevute@%[1]s, password: %[2]s}
submission: {host: %[3]s, port: %[4]d, tls: implicit}
imap: {host: %[3]s, port: %[5]d, tls: implicit}
pop3: {host: %[3]s, port: %[11]d, tls: implicit}
mx: {host: %[3]s, port: %[6]d, tls: starttls}
accounts:
  - {address: alice@%[1]s, password: pw-alice}
  - {address: bob@%[1]s, password: pw-bob}
  - {name: infetto, address: infetto@%[1]s, password: pw-infetto}
admin: {url: "http://%[3]s:%[7]d", token: %[8]s}
capabilities: [controllable-clock, receives-ordinary-mail, sends-to-ordinary-mail, simulated-virus]
ldif: %[9]s.ldif.p7m
issue:
  signing_csr: signer.csr
  tls: [%[3]s, mx.%[1]s]
`, b.domain, b.receipts, b.host, b.sub, b.imap, mxPort, b.admin, b.adminAuth, b.name, b.providerName(), b.pop3)
	writeFile(t, b.file, []byte(body))
}

// putFiles is DIR/put/lab.yaml: the only thing the provider reads of the lab.
type putFiles struct {
	DNS    string `yaml:"dns"`
	MXPort int    `yaml:"mx_port"`
	Index  struct {
		LDAPURL string `yaml:"ldap_url"`
	} `yaml:"index"`
	Trust   string `yaml:"trust"`
	Signing struct {
		Certificate string `yaml:"certificate"`
	} `yaml:"signing"`
	TLS struct {
		Certificate string `yaml:"certificate"`
		Key         string `yaml:"key"`
	} `yaml:"tls"`
	Record string `yaml:"record"`
}

// configure does what the checklist says, from DIR/put/ only: the issued
// certificate into the token, the signed LDIF published, the pecref
// configuration written.
func (b *blackBox) configure(t *testing.T, putDir string) string {
	var v putFiles
	data, err := os.ReadFile(filepath.Join(putDir, "lab.yaml"))
	if err == nil {
		err = yaml.Unmarshal(data, &v)
	}
	if err != nil {
		t.Fatal(err)
	}
	in := func(p string) string { return filepath.Join(putDir, p) }
	certPEM, _ := os.ReadFile(in(v.Signing.Certificate))
	blk, _ := pem.Decode(certPEM)
	if blk == nil {
		t.Fatalf("%s: no certificate", v.Signing.Certificate)
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	tok := b.token(t)
	defer tok.Close()
	if err := tok.StoreCertificate(b.keyLabel(), cert); err != nil {
		t.Fatal(err)
	}
	key, err := tok.Signer(b.keyLabel())
	if err != nil {
		t.Fatal(err)
	}
	record, _ := os.ReadFile(in(v.Record))
	p7m, err := index.SignLDIF(record, cert, key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(b.dir, b.name+".ldif.p7m"), p7m)
	if b.clamd, err = lab.StartClamd(context.Background(), filepath.Join(b.dir, "clamd"), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.clamd.Stop() })
	users := []provider.User{{Address: "ricevute@" + b.domain, Password: b.receipts}}
	for a, pw := range b.accounts {
		users = append(users, provider.User{Address: a, Password: pw, SimulatedVirus: strings.HasPrefix(a, "infetto@")})
	}
	addr := func(port int) string { return net.JoinHostPort(b.host, strconv.Itoa(port)) }
	uid, gid := lab.MailOwner()
	cfg := provider.Config{Name: b.name, ProviderName: b.providerName(), Domains: []string{b.domain},
		ServiceAddress: "posta-certificata@" + b.domain, ReceiptsMailbox: "ricevute@" + b.domain,
		DataDir: filepath.Join(b.dir, "data"),
		Listen:  provider.Listen{Submission: addr(b.sub), MX: addr(v.MXPort), Admin: addr(b.admin)},
		TLS:     provider.TLSFiles{Cert: in(v.TLS.Certificate), Key: in(v.TLS.Key)}, Trust: in(v.Trust),
		HSM:   provider.HSM{SoftHSMConf: b.tokenConf, Token: b.name, PIN: b.pin, KeyLabel: b.keyLabel(), Sessions: 2},
		Index: provider.Index{URL: v.Index.LDAPURL}, Clamd: provider.Clamd{Socket: b.clamd.Socket},
		DNS: provider.DNS{Server: v.DNS, MXPort: v.MXPort}, Users: users, AdminToken: b.adminAuth,
		ControllableClock: true, NoticeHTML: true, MailOwner: &provider.Owner{UID: uid, GID: gid}}
	b.spec = lab.DovecotSpec{Name: b.name, Dir: filepath.Join(b.dir, "dovecot"), MailRoot: filepath.Join(b.dir, "data", "mail"),
		Cert: in(v.TLS.Certificate), Key: in(v.TLS.Key), CA: in(v.Trust), Host: b.host, IMAP: b.imap, POP3: b.pop3}
	for _, u := range users {
		b.spec.Accounts = append(b.spec.Accounts, lab.Account{Address: u.Address, Password: u.Password})
	}
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(b.dir, "pecref.yaml")
	writeFile(t, path, out)
	return path
}

// start runs bin on the configuration with env, waits for /health, and
// starts the provider's Dovecot the first time.
func (b *blackBox) start(t *testing.T, bin, cfg string, env ...string) {
	defer b.startDovecot(t)
	proc, err := lab.StartProc(context.Background(), b.name, filepath.Join(b.dir, "pecref.log"), env, bin, "-config", cfg)
	if err != nil {
		t.Fatal(err)
	}
	b.proc = proc
	t.Cleanup(func() { proc.Stop(5 * time.Second) })
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + net.JoinHostPort(b.host, strconv.Itoa(b.admin)) + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-proc.Exited():
			log, _ := os.ReadFile(filepath.Join(b.dir, "pecref.log"))
			t.Fatalf("the black-box provider exited: %v\n%s", proc.Err(), log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the black-box provider is not healthy after 20 s")
		}
	}
}

// startDovecot serves the provider's Maildirs over IMAPS and POP3S, once.
func (b *blackBox) startDovecot(t *testing.T) {
	if b.dovecot != nil || t.Failed() {
		return
	}
	d, err := lab.StartDovecot(context.Background(), b.spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	b.dovecot = d
	t.Cleanup(func() { d.Stop() })
}

// TestBlackBoxPUT enrols a provider the lab did not build (issue "Any
// provider can join the lab"): the full suite passes against it; built with
// the fault switch it fails naming rules only, every failure covered by an
// --expect file made of them.
func TestBlackBoxPUT(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real lab and a provider under test")
	}
	start := time.Now()
	b := newBlackBox(t)
	l := labtest.UpAt(t, lab.Options{Enrol: b.file, Ports: labtest.FreeBase}, func(base int) { b.writeEnrolment(t, base+2) })
	cfg := b.configure(t, filepath.Join(l.Dir, "put"))
	b.start(t, labtest.Pecref(t), cfg)
	t.Logf("lab up and black-box provider configured in %v", time.Since(start).Round(time.Millisecond))
	// A second lab up --enrol on the running lab's directory is refused,
	// naming the lab's PID, and leaves the directory as it was.
	code, console := runCmd(t, cmdLab, "up", "--dir", l.Dir, "--enrol", b.file)
	if code != exitHarness || !strings.Contains(console, "already running") || !strings.Contains(console, "pid "+strconv.Itoa(os.Getpid())) ||
		strings.Count(strings.TrimSpace(console), "\n") != 0 {
		t.Errorf("second lab up --enrol: exit %d: %s", code, console)
	}
	if _, err := os.Stat(filepath.Join(l.Dir, "put", "signer.pem")); err != nil {
		t.Errorf("the second lab up wiped the running lab: %v", err)
	}
	dir := t.TempDir()
	run := func(name string, extra ...string) (int, scenarios.Summary, string) {
		out := filepath.Join(dir, name)
		code, console := runCLI(t, append([]string{"--target", b.file, "--lab", l.Dir, "--out", out, "--timeout", "30s"}, extra...)...)
		return code, readSummary(t, out), console
	}
	runStart := time.Now()
	code, sum, console := run("honest")
	t.Logf("full suite against the black-box provider: exit %d in %v", code, time.Since(runStart).Round(time.Millisecond))
	if code != exitOK || sum.Totals.Passed != sum.Totals.Scenarios || sum.Totals.Skipped != 0 {
		t.Fatalf("honest black box: exit %d, totals %+v\n%s", code, sum.Totals, console)
	}

	b.proc.Stop(5 * time.Second)
	b.start(t, faultPecref(t), cfg, "PECREF_FAULT=omit-riferimento@"+b.domain)
	code, sum, console = run("faulty")
	var rules []string
	for _, f := range sum.Outcome.Unexpected {
		if f.Rule == "" {
			t.Errorf("a failure names no rule: %+v", f)
		}
		if !slices.Contains(rules, f.Rule) {
			rules = append(rules, f.Rule)
		}
	}
	for _, sc := range sum.Scenarios {
		if sc.Status == "error" {
			t.Errorf("%s ended in error against the faulty black box: %s", sc.Name, sc.Error)
		}
	}
	if code != exitFail || !slices.Contains(rules, "GEN-15") {
		t.Fatalf("faulty black box: exit %d, rules %v; want 1 with GEN-15\n%s", code, rules, console)
	}
	t.Logf("faulty black box: exit %d, failures by rule %v, every one named", code, rules)
	var expect strings.Builder
	for _, r := range rules {
		fmt.Fprintf(&expect, "- rule: %s\n  reason: the faulty build omits X-Riferimento-Message-ID\n", r)
	}
	file := filepath.Join(dir, "expect.yaml")
	writeFile(t, file, []byte(expect.String()))
	if code, sum, console = run("expected", "--expect", file); code != exitOK || len(sum.Outcome.Expected) == 0 {
		t.Errorf("with the expect file %v: exit %d, outcome %+v\n%s", rules, code, sum.Outcome, console)
	}
}

// runCLI runs `pecspec run args` with stdout and stderr captured.
func runCLI(t *testing.T, args ...string) (int, string) {
	return runCmd(t, cmdRun, args...)
}

// runCmd runs a subcommand with stdout and stderr captured.
func runCmd(t *testing.T, cmd func([]string) int, args ...string) (int, string) {
	f, err := os.CreateTemp(t.TempDir(), "console")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = f, f
	code := cmd(args)
	os.Stdout, os.Stderr = stdout, stderr
	data, _ := os.ReadFile(f.Name())
	return code, string(data)
}

func readSummary(t *testing.T, out string) scenarios.Summary {
	var s scenarios.Summary
	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err == nil {
		err = json.Unmarshal(data, &s)
	}
	if err != nil {
		t.Fatalf("%s/summary.json: %v", out, err)
	}
	return s
}

func writeFile(t *testing.T, path string, data []byte) {
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
