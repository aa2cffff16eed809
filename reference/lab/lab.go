// Package lab starts and stops the reference laboratory (DESIGN.md "the
// picture"): a test PKI, one SoftHSM2 token per provider with its signing key
// generated inside it, slapd with the RFC 6109 §4.5 schema holding the index,
// clamd with the project's test signatures, two reference instances (alpha
// and beta) as separate pecref processes, and one Dovecot per instance and for
// the external domain serving their Maildirs over IMAPS and POP3S. `pecspec lab up`, `pecspec run`
// against the reference and the integration tests all use it.
package lab

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Options configures Up.
type Options struct {
	Dir    string       // work directory; created; everything the lab makes goes there
	Pecref string       // pecref binary; "" = next to this executable, then $PATH
	Log    *slog.Logger // nil = discard
	// MaxTotalBytes is the instances' size × recipients limit (0 = their
	// default, 30 MB); benchmarks raise it for a 50 MB message.
	MaxTotalBytes int64
	// Enrol is an enrolment file: the provider under test it describes
	// joins the lab (enrol.go, put.go, putdir.go).
	Enrol string
	// Enrols are more enrolment files: several providers under test join
	// the same lab (an interoperability matrix); each gets DIR/put/<name>/
	// and DIR/target-<name>.yaml.
	Enrols []string
	// Ports is BASE of the fixed port layout (layout.go); 0 = free ports.
	Ports int
	// Listen is the lab address (default 127.0.0.1); the MX addresses
	// follow it.
	Listen string
	// Routes maps a lab domain to the host:port its mail is delivered to
	// instead of its MX, in every instance but the domain's own: the chaos
	// run puts a fault-injecting proxy between the providers this way
	// (routes.go).
	Routes map[string]string
}

// Lab is a running laboratory.
type Lab struct {
	Dir       string
	CA        *CA
	LDAPURL   string
	Providers []*Instance
	// External is the ordinary (non-PEC) mail domain.
	External *External
	// Peer is gamma, the scriptable peer the probe runs (peer.go).
	Peer *Instance
	// DNS serves MX and A records for every lab domain and the PUT's.
	DNS *DNS
	// PUTs are the enrolled providers under test, in enrolment order.
	PUTs     []*PUT
	slapd    *Slapd
	clamd    *Clamd
	log      *slog.Logger
	pecref   string
	maxTotal int64
	layout   *layout
	lock     *os.File // the directory's lock (lock.go), held while the lab runs
	down     bool
	bulkPass string            // the bulk accounts' password (bulk.go)
	control  string            // the control socket while Serve serves it (control.go)
	routes   map[string]string // Options.Routes
}

// ErrLab wraps every start-up failure.
var ErrLab = errors.New("lab")

// Up builds and starts the whole lab. On failure everything already started is
// stopped again. A directory where another lab runs is refused (ErrRunning)
// before anything in it is touched.
func Up(ctx context.Context, opts Options) (l *Lab, err error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLab, err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	l = &Lab{Dir: dir, log: opts.Log, maxTotal: opts.MaxTotalBytes, lock: lock, routes: opts.Routes}
	defer func() {
		if err != nil {
			l.Down()
		}
	}()
	if err := l.prepare(opts); err != nil {
		return l, err
	}
	start := time.Now()
	daemons := l.startDaemons(ctx)
	if err := l.makeParties(); err != nil {
		<-daemons
		return l, err
	}
	if err := <-daemons; err != nil {
		return l, err
	}
	if err := l.loadIndex(ctx); err != nil {
		return l, err
	}
	if err := l.startExternal(); err != nil {
		return l, err
	}
	if err := l.startInstances(ctx, l.pecref); err != nil {
		return l, err
	}
	if err := l.writeTargets(); err != nil {
		return l, err
	}
	if err := l.writePUT(); err != nil {
		return l, err
	}
	l.log.Info("lab up", "dir", dir, "took", time.Since(start).Round(time.Millisecond))
	return l, nil
}

// prepare reads the enrolment (before the directory is reset: its files may
// live there), checks the port layout, resets the directory and finds pecref.
func (l *Lab) prepare(opts Options) error {
	if err := l.readEnrolments(opts); err != nil {
		return err
	}
	ly, err := newLayout(opts.Listen, opts.Ports)
	if err != nil {
		return err
	}
	if err := ly.checkFixed(); err != nil {
		return err
	}
	l.layout = ly
	if err := prepareDir(l.Dir); err != nil {
		return err
	}
	l.pecref, err = findPecref(opts.Pecref)
	return err
}

// makeParties makes the PKI, the instances' and gamma's tokens and
// certificates, and the PUT's certificates.
func (l *Lab) makeParties() error {
	if err := l.makePKI(); err != nil {
		return err
	}
	if err := l.makeProviders(); err != nil {
		return err
	}
	if err := l.makePeer(); err != nil {
		return err
	}
	for _, p := range l.PUTs {
		if err := l.certifyPUT(p); err != nil {
			return err
		}
	}
	return l.writePUTTrust()
}

// startDaemons starts slapd, clamd and the DNS server concurrently with the
// PKI and token work; the channel yields their joint result.
func (l *Lab) startDaemons(ctx context.Context) <-chan error {
	done := make(chan error, 1)
	go func() {
		errc := make(chan error, 3)
		go func() {
			port, err := l.layout.port(offLDAP)
			if err == nil {
				var s *Slapd
				if s, err = StartSlapdAt(ctx, filepath.Join(l.Dir, "slapd"), l.layout.hostPort(port), l.log); err == nil {
					l.slapd, l.LDAPURL = s, s.URL
				}
			}
			errc <- err
		}()
		go func() {
			c, err := StartClamd(ctx, filepath.Join(l.Dir, "clamd"), l.log)
			if err == nil {
				l.clamd = c
			}
			errc <- err
		}()
		go func() {
			port, err := l.layout.dnsPort()
			if err == nil {
				l.DNS, err = StartDNS(ctx, filepath.Join(l.Dir, "dns"), l.layout.Addr(), port, l.dnsRecords(), l.log)
			}
			errc <- err
		}()
		done <- errors.Join(<-errc, <-errc, <-errc)
	}()
	return done
}

// Down stops every process the lab started (instances first, then daemons)
// and releases the directory; a second call does nothing.
func (l *Lab) Down() error {
	if l.down {
		return nil
	}
	l.down = true
	var errs []error
	for _, p := range l.Providers {
		if p.proc != nil {
			errs = append(errs, p.proc.Stop(5*time.Second))
		}
		errs = append(errs, p.dovecot.Stop())
	}
	errs = append(errs, l.External.stop())
	errs = append(errs, l.DNS.Stop())
	if l.clamd != nil {
		errs = append(errs, l.clamd.Stop())
	}
	if l.slapd != nil {
		errs = append(errs, l.slapd.Stop())
	}
	if l.lock != nil {
		errs = append(errs, l.lock.Close()) // releases the flock
		l.lock = nil
	}
	return errors.Join(errs...)
}

// Provider returns the instance called name, or nil.
func (l *Lab) Provider(name string) *Instance {
	for _, p := range l.Providers {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// ClamdPid is the process ID of the lab's clamd (measurements read its CPU
// time), 0 before it runs.
func (l *Lab) ClamdPid() int {
	if l.clamd == nil || l.clamd.proc == nil {
		return 0
	}
	return l.clamd.proc.cmd.Process.Pid
}

// TargetFile is the target file of the reference pair: alpha as the target,
// beta as its counterpart.
func (l *Lab) TargetFile() string { return filepath.Join(l.Dir, "reference.yaml") }

// CAFile is the lab CA certificate, PEM.
func (l *Lab) CAFile() string { return filepath.Join(l.Dir, "ca.pem") }

// marker names a directory as a lab's: Up may reset it.
const marker = ".pecspec-lab"

// prepareDir makes dir an empty lab directory: a previous lab there is
// removed (keys, tokens and data are all regenerated) but for its lock and
// the kept PKI (keep.go); a non-empty directory that is not a lab is refused
// rather than touched.
func prepareDir(dir string) error {
	entries, err := os.ReadDir(dir)
	entries = slices.DeleteFunc(entries, func(e os.DirEntry) bool { return e.Name() == LockFile || e.Name() == keepDir })
	switch {
	case os.IsNotExist(err):
	case err != nil:
		return fmt.Errorf("%w: %v", ErrLab, err)
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(dir, marker)); err != nil {
			return fmt.Errorf("%w: %s is not empty and holds no previous lab; choose another --dir", ErrLab, dir)
		}
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("%w: reset %s: %v", ErrLab, dir, err)
			}
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("%w: %v", ErrLab, err)
	}
	return os.WriteFile(filepath.Join(dir, marker), []byte("a pecspec lab; `pecspec lab up` may delete this directory's content\n"), 0o600)
}

func secret() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
