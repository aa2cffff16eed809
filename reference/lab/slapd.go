package lab

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/pecspec/pecspec/fixtures"
)

// Slapd is the lab's OpenLDAP server: the index of PEC providers under
// o=postacert with the RFC 6109 §4.5 schema (pec-rules §5).
type Slapd struct {
	URL, BindDN, Password string
	proc                  *Proc
}

// slapdConf is a private slapd.conf (slapd 2.5 still reads -f; platform.md).
const slapdConf = `include /etc/ldap/schema/core.schema
include %[1]s/pec.schema
pidfile %[1]s/slapd.pid
argsfile %[1]s/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 67108864
suffix "o=postacert"
rootdn "%[2]s"
rootpw %[3]s
directory %[1]s/db
index objectClass,managedDomains,providerName,providerCertificateHash eq
access to * by * read
`

// StartSlapd writes the schema and configuration in dir, starts slapd on a
// free loopback port and waits until it accepts a bind.
func StartSlapd(ctx context.Context, dir string, log *slog.Logger) (*Slapd, error) {
	port, err := FreePort()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLab, err)
	}
	return StartSlapdAt(ctx, dir, "127.0.0.1:"+strconv.Itoa(port), log)
}

// StartSlapdAt is StartSlapd listening at addr (host:port).
func StartSlapdAt(ctx context.Context, dir, addr string, log *slog.Logger) (*Slapd, error) {
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o700); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLab, err)
	}
	s := &Slapd{BindDN: "cn=admin,o=postacert", Password: secret()}
	conf := filepath.Join(dir, "slapd.conf")
	files := map[string][]byte{
		"pec.schema": fixtures.PECSchema,
		"slapd.conf": fmt.Appendf(nil, slapdConf, dir, s.BindDN, s.Password),
	}
	if err := writeFiles(dir, files); err != nil {
		return nil, err
	}
	if out, err := exec.CommandContext(ctx, "slaptest", "-u", "-f", conf).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%w: slaptest: %v: %s", ErrLab, err, out)
	}
	s.URL = "ldap://" + addr
	var err error
	s.proc, err = StartProc(ctx, "slapd", filepath.Join(dir, "slapd.log"), nil,
		"slapd", "-f", conf, "-h", s.URL+"/", "-d", "0")
	if err != nil {
		return nil, err
	}
	if err := waitUntil(ctx, s.proc, slapdReady, s.check); err != nil {
		s.proc.Stop(time.Second)
		return nil, err
	}
	if log != nil {
		log.Info("slapd up", "url", s.URL)
	}
	return s, nil
}

// slapdReady bounds slapd's start.
const slapdReady = 10 * time.Second

// check binds as the index's administrator: slapd is ready.
func (s *Slapd) check() error {
	c, err := ldap.DialURL(s.URL, ldap.DialWithDialer(&net.Dialer{Timeout: time.Second}))
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetTimeout(2 * time.Second)
	return c.Bind(s.BindDN, s.Password)
}

// Stop ends slapd.
func (s *Slapd) Stop() error { return s.proc.Stop(5 * time.Second) }
