// Package lab starts and stops the reference laboratory (DESIGN.md "the
// picture"): a test PKI, one SoftHSM2 token per provider with its signing key
// generated inside it, slapd with the RFC 6109 §4.5 schema holding the index,
// clamd with the project's test signatures, and two reference instances (alpha
// and beta) as separate pecref processes. `pecspec lab up`, `pecspec run`
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
	Peer     *Instance
	slapd    *Slapd
	clamd    *Clamd
	log      *slog.Logger
	pecref   string
	maxTotal int64
	bulkPass string // the bulk accounts' password (bulk.go)
}

// ErrLab wraps every start-up failure.
var ErrLab = errors.New("lab")

// Up builds and starts the whole lab. On failure everything already started is
// stopped again.
func Up(ctx context.Context, opts Options) (l *Lab, err error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLab, err)
	}
	if err := prepareDir(dir); err != nil {
		return nil, err
	}
	pecref, err := findPecref(opts.Pecref)
	if err != nil {
		return nil, err
	}
	l = &Lab{Dir: dir, log: opts.Log, maxTotal: opts.MaxTotalBytes}
	defer func() {
		if err != nil {
			l.Down()
		}
	}()
	start := time.Now()
	daemons := l.startDaemons(ctx)
	if err := l.makePKI(); err != nil {
		<-daemons
		return l, err
	}
	if err := l.makeProviders(); err != nil {
		<-daemons
		return l, err
	}
	if err := l.makePeer(); err != nil {
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
	if err := l.startInstances(ctx, pecref); err != nil {
		return l, err
	}
	if err := l.writeTargets(); err != nil {
		return l, err
	}
	l.log.Info("lab up", "dir", dir, "took", time.Since(start).Round(time.Millisecond))
	return l, nil
}

// startDaemons starts slapd and clamd concurrently with the PKI and token
// work; the channel yields their joint result.
func (l *Lab) startDaemons(ctx context.Context) <-chan error {
	done := make(chan error, 1)
	go func() {
		errc := make(chan error, 2)
		go func() {
			s, err := StartSlapd(ctx, filepath.Join(l.Dir, "slapd"), l.log)
			if err == nil {
				l.slapd, l.LDAPURL = s, s.URL
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
		done <- errors.Join(<-errc, <-errc)
	}()
	return done
}

// Down stops every process the lab started (instances first, then daemons).
func (l *Lab) Down() error {
	var errs []error
	for _, p := range l.Providers {
		if p.proc != nil {
			errs = append(errs, p.proc.Stop(5*time.Second))
		}
	}
	errs = append(errs, l.External.stop())
	if l.clamd != nil {
		errs = append(errs, l.clamd.Stop())
	}
	if l.slapd != nil {
		errs = append(errs, l.slapd.Stop())
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
// removed (keys, tokens and data are all regenerated); a non-empty directory
// that is not a lab is refused rather than touched.
func prepareDir(dir string) error {
	entries, err := os.ReadDir(dir)
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
