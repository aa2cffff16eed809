package lab

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Several providers under test can join one lab (`lab up --enrol A.yaml
// --enrol B.yaml`): an interoperability matrix needs them in one index, one
// DNS and one routing table, so that each can exchange mail with every
// other. With one PUT its files are in DIR/put/ and its target file is
// DIR/target-put.yaml (and DIR/target-<name>.yaml); with several, each has
// DIR/put/<name>/ and DIR/target-<name>.yaml. DIR/put/ca.pem is the one
// bundle every party trusts: the lab CA and every PUT's own CAs.

// readEnrolments reads every enrolment file of opts and checks that the
// providers they describe can live side by side.
func (l *Lab) readEnrolments(opts Options) error {
	files := opts.Enrols
	if opts.Enrol != "" {
		files = append([]string{opts.Enrol}, files...)
	}
	var errs []error
	for _, f := range files {
		e, err := LoadEnrolment(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p, err := readPUT(e)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		l.PUTs = append(l.PUTs, p)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, p := range l.PUTs {
		p.dir = putDir
		if len(l.PUTs) > 1 {
			p.dir = filepath.Join(putDir, p.Name)
		}
	}
	return distinctPUTs(l.PUTs)
}

// distinctPUTs refuses two providers under test with the same name,
// provider name, domain or MX: the index, the DNS and the routes hold one
// of each.
func distinctPUTs(puts []*PUT) error {
	seen := map[string]string{}
	var errs []error
	claim := func(p *PUT, what, v string) {
		key := what + " " + strings.ToLower(v)
		if other, ok := seen[key]; ok {
			errs = append(errs, fmt.Errorf("%w: %s and %s have the same %s %q: each provider under test needs its own",
				ErrEnrol, other, p.Name, what, v))
			return
		}
		seen[key] = p.Name
	}
	for _, p := range puts {
		claim(p, "name", p.Name)
		claim(p, "provider_name", p.ProviderName)
		for _, d := range p.Domains {
			claim(p, "domain", d)
		}
		claim(p, "mx", p.MX.addr())
	}
	return errors.Join(errs...)
}

// PUT returns the enrolled provider under test called name, or nil.
func (l *Lab) PUT(name string) *PUT {
	for _, p := range l.PUTs {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// putPath is a file of p's directory, DIR/put/ or DIR/put/<name>/.
func (l *Lab) putPath(p *PUT, name string) string { return filepath.Join(l.Dir, p.dir, name) }

// bundleFile is DIR/put/ca.pem: the lab CA and every PUT's own CAs, which
// the lab's providers trust.
func (l *Lab) bundleFile() string { return filepath.Join(l.Dir, putDir, putTrust) }

// isPUTDomain reports whether d is a domain of some enrolled PUT.
func (l *Lab) isPUTDomain(d string) bool {
	for _, p := range l.PUTs {
		if containsFold(p.Domains, d) {
			return true
		}
	}
	return false
}
