package lab

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pecspec/pecspec/reference/provider"
)

// MailUID is the user (and group) that owns the lab's Maildirs and that
// Dovecot's mail processes run as: Dovecot never reads mail as root, and no
// account of the system uses this ID, so the Maildirs are reachable by
// root and Dovecot alone. When the lab does not run as root it is the lab's
// own user.
const MailUID = 64900

// MailOwner is the uid and gid the lab's Maildirs belong to.
func MailOwner() (uid, gid int) {
	if os.Getuid() == 0 {
		return MailUID, MailUID
	}
	return os.Getuid(), os.Getgid()
}

// Dovecot is one Dovecot server of the lab: IMAPS and POP3S (implicit TLS,
// loopback) over the Maildirs a reference instance (or the external
// domain) delivers to. The provider writes the Maildirs; Dovecot only serves
// them (DESIGN.md: mailbox).
type Dovecot struct {
	Host       string // where it listens: the lab address
	IMAP, POP3 int    // ports at Host
	proc       *Proc
	roots      *x509.CertPool // the lab CA, to check readiness over TLS
}

// DovecotSpec is what a Dovecot of the lab serves.
type DovecotSpec struct {
	Name     string    // instance name (alpha, external)
	Dir      string    // its own directory: config, passwd-file, runtime, indexes, log
	MailRoot string    // the Maildirs: MailRoot/<address>/{tmp,new,cur}
	Cert     string    // PEM chain and key of its TLS certificate
	Key      string    //
	CA       string    // the lab CA, to check readiness over TLS
	Accounts []Account // who may log in
	Host     string    // listening address; "" is 127.0.0.1
	IMAP     int       // IMAPS port; 0 picks a free one
	POP3     int       // POP3S port; 0 picks a free one
}

// dovecotConf is a complete private configuration (no system file is read):
// implicit TLS only (ssl = required, no plaintext listener, no plaintext
// authentication), a passwd-file passdb and a static userdb whose mail is the
// reference's Maildir; Dovecot's own files (uid lists, indexes) go in its
// directory, never in the Maildirs the reference reads. Mail processes run
// chrooted (mail_chroot) in the common parent of the Maildirs and of
// Dovecot's directory, so the directories above it may be closed to the mail
// user (a lab under a 0700 home or test directory). The limits harden
// the servers (issue 15): a command line over imap_max_line_length is
// refused without running the rest of it, a literal over the login
// process's limit before login ends the connection, an APPEND over
// quota_max_mail_size is refused before its literal is read, and connections
// per user and address are bounded. A failed login is answered after
// auth_failure_delay; anvil's per-address penalty, which would then slow every
// later login from that address (up to 15 s), is off: the harness logs in from
// loopback on behalf of every party, and one wrong password — a preflight
// check — must not delay the others. Processes are reused (service_count = 0,
// Dovecot's "high-performance" login mode; mail processes serve the same
// uid anyway): a process per connection cost 2,742 imap-login and 2,276 imap
// processes, 190 s of CPU, in one make test — a quarter of it.
const dovecotConf = `# pecspec lab: Dovecot for %[1]s (written by the lab; see reference/lab/dovecot.go)
instance_name = pecspec-%[1]s-%[12]s
base_dir = %[2]s/run
state_dir = %[2]s/state
log_path = %[2]s/dovecot.log
protocols = imap pop3
listen = %[15]s
ssl = required
ssl_cert = <%[3]s
ssl_key = <%[4]s
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain
auth_failure_delay = 2 secs
first_valid_uid = %[5]d
last_valid_uid = %[5]d
first_valid_gid = %[6]d
passdb {
  driver = passwd-file
  args = username_format=%%Lu %[2]s/users
}
userdb {
  driver = static
  args = uid=%[5]d gid=%[6]d
}
valid_chroot_dirs = %[13]s
mail_chroot = %[13]s
mail_location = maildir:%[7]s/%%Lu:INDEX=%[14]s/index/%%Lu:CONTROL=%[14]s/control/%%Lu
imap_max_line_length = 64k
mail_max_userip_connections = 50
mail_plugins = quota
plugin {
  quota = count:User quota
  quota_vsizes = yes
  quota_max_mail_size = 64M
}
protocol imap {
  mail_plugins = $mail_plugins imap_quota
}
service auth {
  user = root
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    address = %[15]s
    port = %[8]d
    ssl = yes
  }
  service_count = 0
  process_min_avail = 2
  client_limit = %[9]d
  process_limit = %[10]d
}
service imap {
  service_count = 0
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    address = %[15]s
    port = %[11]d
    ssl = yes
  }
  service_count = 0
  process_min_avail = 2
  client_limit = %[9]d
  process_limit = %[10]d
}
service pop3 {
  service_count = 0
}
`

// StartDovecot writes the configuration and passwd-file of spec in spec.Dir,
// starts Dovecot in the foreground and waits until both IMAPS and POP3S
// greet over TLS. Ports it picks itself are picked again should another
// process take one first (a few tries).
func StartDovecot(ctx context.Context, spec DovecotSpec, log *slog.Logger) (*Dovecot, error) {
	if spec.Host == "" {
		spec.Host = "127.0.0.1"
	}
	pick := spec.IMAP == 0 || spec.POP3 == 0
	for try := 1; ; try++ {
		if pick {
			var err error
			if spec.IMAP, err = freePortAt(spec.Host); err == nil {
				spec.POP3, err = freePortAt(spec.Host)
			}
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrLab, err)
			}
		}
		d, err := startDovecot(ctx, spec, log)
		if err == nil || !pick || try == 3 || !portTaken(spec.Dir) {
			return d, err
		}
	}
}

// portTaken reports whether Dovecot's start failed on a port in use.
func portTaken(dir string) bool {
	data, _ := os.ReadFile(filepath.Join(dir, "dovecot.out"))
	log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
	out := string(data) + string(log)
	return strings.Contains(out, "Address already in use") || strings.Contains(out, "duplicate listener")
}

func startDovecot(ctx context.Context, spec DovecotSpec, log *slog.Logger) (*Dovecot, error) {
	uid, gid := MailOwner()
	if err := prepareDovecotDir(spec, uid, gid); err != nil {
		return nil, fmt.Errorf("%w: dovecot %s: %v", ErrLab, spec.Name, err)
	}
	root := commonParent(spec.Dir, filepath.Dir(spec.MailRoot))
	inRoot := func(p string) string { return "/" + strings.TrimPrefix(strings.TrimPrefix(p, root), "/") }
	conf := fmt.Appendf(nil, dovecotConf, spec.Name, spec.Dir, spec.Cert, spec.Key, uid, gid, inRoot(spec.MailRoot),
		spec.IMAP, 16, 64, spec.POP3, secret()[:6], root, inRoot(spec.Dir), spec.Host)
	if err := writeFiles(spec.Dir, map[string][]byte{"dovecot.conf": conf, "users": passwdFile(spec.Accounts)}); err != nil {
		return nil, err
	}
	d := &Dovecot{Host: spec.Host, IMAP: spec.IMAP, POP3: spec.POP3, roots: x509.NewCertPool()}
	if pem, err := os.ReadFile(spec.CA); err == nil {
		d.roots.AppendCertsFromPEM(pem)
	}
	var err error
	d.proc, err = StartProc(ctx, "dovecot-"+spec.Name, filepath.Join(spec.Dir, "dovecot.out"), nil,
		"dovecot", "-F", "-c", filepath.Join(spec.Dir, "dovecot.conf"))
	if err != nil {
		return nil, err
	}
	if err := waitUntil(ctx, d.proc, dovecotReady, d.check); err != nil {
		d.proc.Stop(time.Second)
		return nil, fmt.Errorf("%w (see %s)", err, filepath.Join(spec.Dir, "dovecot.log"))
	}
	if log != nil {
		log.Info("dovecot up", "for", spec.Name, "imaps", spec.IMAP, "pop3s", spec.POP3)
	}
	return d, nil
}

// dovecotReady bounds a Dovecot's start.
const dovecotReady = 10 * time.Second

// check: both IMAPS and POP3S greet over TLS, so Dovecot is ready.
func (d *Dovecot) check() error {
	if err := greets(d.Host, d.IMAP, d.roots, "* OK"); err != nil {
		return err
	}
	return greets(d.Host, d.POP3, d.roots, "+OK")
}

// prepareDovecotDir makes Dovecot's directories: its own (runtime, state,
// homes, indexes and control files owned by the mail user) and the path to
// the Maildirs, which the mail user must be able to traverse (0711: listed
// by nobody else).
func prepareDovecotDir(spec DovecotSpec, uid, gid int) error {
	for _, sub := range []string{"", "run", "state"} {
		if err := os.MkdirAll(filepath.Join(spec.Dir, sub), 0o700); err != nil {
			return err
		}
	}
	for _, sub := range []string{"index", "control"} {
		p := filepath.Join(spec.Dir, sub)
		if err := os.MkdirAll(p, 0o700); err != nil {
			return err
		}
		if err := os.Chown(p, uid, gid); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(spec.MailRoot, 0o700); err != nil {
		return err
	}
	if err := os.Chown(spec.MailRoot, uid, gid); err != nil {
		return err
	}
	// The directories down to the Maildirs and Dovecot's own, from their
	// common parent (the mail processes' chroot): traversable, not listable.
	for _, p := range traversed(spec.Dir, filepath.Dir(spec.MailRoot)) {
		if err := os.Chmod(p, 0o711); err != nil {
			return err
		}
	}
	return nil
}

// commonParent is the deepest directory holding both a and b (or one of them).
func commonParent(a, b string) string {
	top := a
	for !strings.HasPrefix(b+string(filepath.Separator), top+string(filepath.Separator)) && top != filepath.Dir(top) {
		top = filepath.Dir(top)
	}
	return top
}

// traversed lists a and b and their parents up to their deepest common
// parent, included.
func traversed(a, b string) []string {
	top := commonParent(a, b)
	var out []string
	for _, p := range []string{a, b} {
		for ; p != top && len(p) > len(top); p = filepath.Dir(p) {
			out = append(out, p)
		}
	}
	return append(out, top)
}

// passwdFile is the passwd-file of the accounts: user:{PLAIN}password (the
// lab's passwords are in its target files anyway).
func passwdFile(accounts []Account) []byte {
	var b strings.Builder
	for _, a := range accounts {
		fmt.Fprintf(&b, "%s:{PLAIN}%s\n", strings.ToLower(a.Address), a.Password)
	}
	return []byte(b.String())
}

// greets dials host:port over TLS, checks the certificate against roots
// and reads the greeting, which must start with want.
func greets(host string, port int, roots *x509.CertPool, want string) error {
	d := &net.Dialer{Timeout: time.Second}
	c, err := tls.DialWithDialer(d, "tcp", net.JoinHostPort(host, strconv.Itoa(port)),
		&tls.Config{RootCAs: roots, ServerName: host, MinVersion: tls.VersionTLS12})
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReaderSize(c, 512).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, want) {
		return fmt.Errorf("port %d greeted %q", port, strings.TrimSpace(line))
	}
	return nil
}

// Stop ends Dovecot and every process it started.
func (d *Dovecot) Stop() error {
	if d == nil || d.proc == nil {
		return nil
	}
	return d.proc.Stop(5 * time.Second)
}

// startDovecots starts, at once, one Dovecot per instance on the Maildirs
// of its data directory (users: every mailbox of its configuration) and one
// for the external domain.
func (l *Lab) startDovecots(ctx context.Context, users map[*Instance][]provider.User) error {
	var specs []DovecotSpec
	for _, p := range l.Providers {
		var accounts []Account
		for _, u := range users[p] {
			accounts = append(accounts, Account{Address: u.Address, Password: u.Password})
		}
		specs = append(specs, DovecotSpec{Name: p.Name, Dir: filepath.Join(p.Dir, "dovecot"),
			MailRoot: filepath.Join(p.Dir, "data", "mail"), Cert: filepath.Join(p.Dir, "tls.pem"),
			Key: filepath.Join(p.Dir, "tls.key"), CA: l.CAFile(), Accounts: accounts,
			Host: l.layout.Addr(), IMAP: p.Ports.IMAP, POP3: p.Ports.POP3}) // 0: Dovecot's own pick
	}
	if x := l.External; x != nil {
		specs = append(specs, x.dovecotSpec(l))
	}
	started := make([]*Dovecot, len(specs))
	errc := make(chan error, len(specs))
	for i, s := range specs {
		go func() {
			d, err := StartDovecot(ctx, s, l.log)
			started[i] = d
			errc <- err
		}()
	}
	var errs []error
	for range specs {
		errs = append(errs, <-errc)
	}
	for i, p := range l.Providers {
		if p.dovecot = started[i]; p.dovecot != nil {
			p.Ports.IMAP, p.Ports.POP3 = p.dovecot.IMAP, p.dovecot.POP3
		}
	}
	if x := l.External; x != nil {
		if x.dovecot = started[len(started)-1]; x.dovecot != nil {
			x.Ports.IMAP, x.Ports.POP3 = x.dovecot.IMAP, x.dovecot.POP3
		}
	}
	return errors.Join(errs...)
}
