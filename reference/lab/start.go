package lab

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pecspec/pecspec/reference/index"
	"github.com/pecspec/pecspec/reference/provider"
)

// The local parts of the policy mailboxes every instance has.
const (
	FullMailbox    = "piena"   // quota of one byte: always full
	PECOnlyMailbox = "solopec" // refuses ordinary mail
	// VirusMailbox is an outcome-simulation address: an envelope for it is
	// taken as infected (provider.User.SimulatedVirus). It is an account of
	// the target files (capability simulated-virus).
	VirusMailbox = "infetto"
)

// ConnectionsPerIP is the lab instances' cap on connections from one
// address, above provider.Limits' 64: every client of the lab is 127.0.0.1
// — the load generator, the harness, the other providers' queues with up to
// 16 pooled sessions each — so the cap per address is nearly the global
// one. Measured peaks: 32 at a submission listener (pecspec load
// --connections 32), 34 at an MX (the 4×4 matrix); 128 leaves room for
// --connections up to ~120 and for larger matrices.
const ConnectionsPerIP = 128

// nowFunc is the lab's time for certificates; the instances have their own clocks.
var nowFunc = time.Now

// loadIndex puts o=postacert and one provider entry per instance, gamma and
// each enrolled PUT in slapd.
func (l *Lab) loadIndex(ctx context.Context) error {
	if err := index.Load(ctx, l.slapd.URL, l.slapd.BindDN, l.slapd.Password, l.entries()...); err != nil {
		return fmt.Errorf("%w: index: %v", ErrLab, err)
	}
	return nil
}

// entries are the index records: every listed provider and the PUTs.
func (l *Lab) entries() []index.Provider {
	var entries []index.Provider
	for _, p := range l.listed() {
		entries = append(entries, p.entry())
	}
	for _, p := range l.PUTs {
		entries = append(entries, p.entry())
	}
	return entries
}

// startInstances takes the ports of the layout, writes each pecref config
// and starts the processes, then waits until each answers /health.
func (l *Lab) startInstances(ctx context.Context, pecref string) error {
	l.pecref = pecref
	ly := l.layout
	for _, p := range l.Providers {
		block := instanceBlock(p.Name)
		for port, slot := range map[*int]int{&p.Ports.Submission: slotSubmission, &p.Ports.Admin: slotAdmin} {
			n, err := ly.port(block + slot)
			if err != nil {
				return fmt.Errorf("%w: %v", ErrLab, err)
			}
			*port = n
		}
		p.Ports.MX = ly.mxPort
		if ly.base != 0 { // else 0: each Dovecot picks free ports (startDovecots)
			p.Ports.IMAP, p.Ports.POP3 = ly.base+block+slotIMAP, ly.base+block+slotPOP3
		}
	}
	if l.Peer != nil {
		l.Peer.Ports.MX = ly.mxPort
	}
	users := map[*Instance][]provider.User{}
	for _, p := range l.Providers {
		cfg := l.config(p)
		if err := saveYAML(filepath.Join(p.Dir, "pecref.yaml"), cfg); err != nil {
			return err
		}
		if err := l.startProc(ctx, p); err != nil {
			return err
		}
		users[p] = cfg.Users
	}
	if err := l.startDovecots(ctx, users); err != nil {
		return err
	}
	for _, p := range l.Providers {
		if err := waitHealthy(ctx, p, 20*time.Second); err != nil {
			return err
		}
	}
	return nil
}

// staticRoutes are the routes the DNS cannot give: a PUT's domains when its
// MX is not on the lab's MX port at an address the DNS knows.
func (l *Lab) staticRoutes() map[string]string {
	routes := map[string]string{}
	for _, p := range l.PUTs {
		if p.routedByDNS(l.layout.mxPort) {
			continue
		}
		for _, d := range p.Domains {
			routes[d] = p.MX.addr()
		}
	}
	return routes
}

func (l *Lab) startProc(ctx context.Context, p *Instance) error {
	proc, err := StartProc(ctx, "pecref-"+p.Name, filepath.Join(p.Dir, "pecref.log"), nil, l.pecref,
		"-config", filepath.Join(p.Dir, "pecref.yaml"))
	if err != nil {
		return fmt.Errorf("%w: start %s: %v", ErrLab, p.Name, err)
	}
	p.proc = proc
	return nil
}

// Pid is the process ID of instance p (for resource measurements).
func (p *Instance) Pid() int { return p.proc.cmd.Process.Pid }

// Kill ends instance p at once with SIGKILL, as a crash would: nothing is
// flushed, no listener is closed cleanly.
func (l *Lab) Kill(p *Instance) {
	p.proc.Kill()
}

// Restart starts a stopped or killed instance again on the same
// configuration, ports and data, and waits until it is healthy.
func (l *Lab) Restart(ctx context.Context, p *Instance) error {
	select {
	case <-p.proc.Exited():
	default:
		return fmt.Errorf("%w: %s is still running", ErrLab, p.Name)
	}
	if err := l.startProc(ctx, p); err != nil {
		return err
	}
	return waitHealthy(ctx, p, 20*time.Second)
}

func (l *Lab) config(p *Instance) *provider.Config {
	uid, gid := MailOwner()
	addr := l.layout.hostPort
	users := []provider.User{{Address: p.Receipts.Address, Password: p.Receipts.Password}}
	for _, a := range p.Accounts {
		users = append(users, provider.User{Address: a.Address, Password: a.Password, SimulatedVirus: a.Name == VirusMailbox})
	}
	// Two mailboxes with a policy, for the flows that need one: a full
	// mailbox (avviso di mancata consegna) and one that refuses ordinary mail.
	users = append(users,
		provider.User{Address: FullMailbox + "@" + p.Domain, Password: secret(), QuotaBytes: 1},
		provider.User{Address: PECOnlyMailbox + "@" + p.Domain, Password: secret(), RefuseOrdinary: true})
	users = append(users, l.bulkUsers(p.Domain)...)
	return &provider.Config{
		Name: p.Name, ProviderName: p.ProviderName, Domains: []string{p.Domain},
		ServiceAddress: p.Service, ReceiptsMailbox: p.Receipts.Address,
		DataDir: filepath.Join(p.Dir, "data"),
		Listen: provider.Listen{Submission: addr(p.Ports.Submission), MX: p.MXAddr(),
			Admin: addr(p.Ports.Admin)},
		TLS:   provider.TLSFiles{Cert: filepath.Join(p.Dir, "tls.pem"), Key: filepath.Join(p.Dir, "tls.key")},
		Trust: l.trustFile(),
		HSM: provider.HSM{SoftHSMConf: p.SoftHSMConf, Token: p.TokenLabel, PIN: p.PIN, KeyLabel: KeyLabel,
			Sessions: 2},
		Index:             l.indexFor(p),
		Clamd:             provider.Clamd{Socket: l.clamd.Socket},
		Routes:            l.routesFor(p),
		DNS:               provider.DNS{Server: l.DNS.Addr, MXPort: l.layout.mxPort},
		PlainDomains:      []string{l.External.Domain},
		Users:             users,
		AdminToken:        p.AdminToken,
		ControllableClock: true, NoticeHTML: true,
		MaxTotalBytes: l.maxTotal,
		MailOwner:     &provider.Owner{UID: uid, GID: gid},
		Limits:        provider.Limits{ConnectionsPerIP: ConnectionsPerIP},
	}
}

// indexFor is where instance p reads the index: slapd, or every provider's
// signed LDIF — the PUTs' too, when the lab has them; without one of them
// that instance reads slapd (which lists every PUT) rather than miss a PUT.
func (l *Lab) indexFor(p *Instance) provider.Index {
	if !p.ldifIndex || slices.ContainsFunc(l.PUTs, func(u *PUT) bool { return u.ldif == nil }) {
		return provider.Index{URL: l.LDAPURL}
	}
	var files []string
	for _, o := range l.listed() {
		files = append(files, l.LDIFFile(o.Name))
	}
	for _, u := range l.PUTs {
		files = append(files, l.putPath(u, putLDIFP7M))
	}
	return provider.Index{LDIF: files}
}

// listed are the providers of the index: the instances and gamma.
func (l *Lab) listed() []*Instance {
	if l.Peer == nil {
		return l.Providers
	}
	return append(append([]*Instance(nil), l.Providers...), l.Peer)
}

// waitHealthy polls the admin /health until it answers, the process exits or
// the deadline passes.
func waitHealthy(ctx context.Context, p *Instance, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	url := "http://127.0.0.1:" + strconv.Itoa(p.Ports.Admin) + "/health"
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.proc.Exited():
			return fmt.Errorf("%w: %s exited during start-up: %v (see %s)", ErrLab, p.Name, p.proc.Err(),
				filepath.Join(p.Dir, "pecref.log"))
		case <-ctx.Done():
			return fmt.Errorf("%w: %s not healthy after %v (see %s)", ErrLab, p.Name, limit,
				filepath.Join(p.Dir, "pecref.log"))
		case <-tick.C:
		}
	}
}

func saveYAML(path string, v any) error {
	data, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrLab, err)
	}
	return writeFiles(filepath.Dir(path), map[string][]byte{filepath.Base(path): data})
}
