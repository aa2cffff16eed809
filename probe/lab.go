package probe

import (
	"fmt"
	"slices"
	"strings"
)

// UseLab completes the target file of a provider under test with what the
// lab that enrolled it offers. lab is the target file the lab wrote for it
// (DIR/target-put.yaml): its counterpart, gamma, the external domain and the
// lab's view are taken as they are, so the provider's own file never holds
// the lab's ports or passwords; trust, certificate, CRLs, index and
// published LDIF are taken only where the provider's file leaves them out
// (the lab issued them). The lab must have enrolled this provider: same name
// and domains.
func (t *Target) UseLab(lab *Target) error {
	if !strings.EqualFold(lab.Name, t.Name) || !sameFold(lab.Domains, t.Domains) {
		return fmt.Errorf("%w: the lab enrolled %s %v, the target file describes %s %v: enrol this provider (pecspec lab up --enrol FILE)",
			ErrTarget, lab.Name, lab.Domains, t.Name, t.Domains)
	}
	t.Counterpart = lab.Counterpart
	t.Surround(lab)
	fill := func(own *string, labs string) {
		if *own == "" {
			*own = labs
		}
	}
	fill(&t.Trust, lab.Path(lab.Trust))
	fill(&t.Certificate, lab.Path(lab.Certificate))
	fill(&t.LDAPURL, lab.LDAPURL)
	if !strings.HasPrefix(lab.LDIF, "https://") {
		fill(&t.LDIF, lab.Path(lab.LDIF))
	} else {
		fill(&t.LDIF, lab.LDIF)
	}
	if len(t.CRLs) == 0 {
		t.CRLs = lab.CRLFiles()
	}
	return nil
}

// Surround gives t what the lab offers around any target: the external
// domain, gamma (its files resolved against lab's file) and the lab's view.
// The counterpart is left as it is: a matrix pairs the providers itself.
func (t *Target) Surround(lab *Target) {
	t.External, t.Lab = lab.External, lab.Lab
	t.Peer = nil
	if lab.Peer != nil {
		g := *lab.Peer
		for _, p := range []*string{&g.TLSCert, &g.TLSKey, &g.SoftHSMConf, &g.Certificate, &g.UnlistedCert} {
			*p = lab.Path(*p)
		}
		t.Peer = &g
	}
}

func sameFold(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.ContainsFunc(b, func(y string) bool { return strings.EqualFold(x, y) }) {
			return false
		}
	}
	return true
}
