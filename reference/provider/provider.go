package provider

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/pecspec/pecspec/pec/hsm"
	"github.com/pecspec/pecspec/reference/accesspoint"
	"github.com/pecspec/pecspec/reference/antivirus"
	"github.com/pecspec/pecspec/reference/clock"
	"github.com/pecspec/pecspec/reference/compose"
	"github.com/pecspec/pecspec/reference/deliverypoint"
	"github.com/pecspec/pecspec/reference/index"
	"github.com/pecspec/pecspec/reference/mailbox"
	"github.com/pecspec/pecspec/reference/netguard"
	"github.com/pecspec/pecspec/reference/queue"
	"github.com/pecspec/pecspec/reference/receptionpoint"
	"github.com/pecspec/pecspec/reference/spool"
	"github.com/pecspec/pecspec/reference/tracker"
	"github.com/pecspec/pecspec/reference/txlog"
)

// Provider is one running instance.
type Provider struct {
	cfg   *Config
	log   *slog.Logger
	clock clock.Clock
	token *hsm.Token
	store *mailbox.Store
	queue *queue.Queue
	track *tracker.Tracker
	reg   *txlog.Log
	holds *holds
	delay *delays
	ap    *accesspoint.Point
	rp    *receptionpoint.Point
	dp    *deliverypoint.Point
	deps  []dependency // checked by /health (health.go)
	tls   *tls.Config
	trust *x509.CertPool
	spool *spool.Dir
	// journal keeps the access point's commits until they are complete
	// (journal.go).
	journal *journal
}

// New builds an instance from cfg: it opens the token, the Maildir store and
// the durable queue (recovering what a crash left in it).
func New(cfg *Config, log *slog.Logger) (*Provider, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Provider{cfg: cfg, log: log.With("provider", cfg.Name)}
	p.clock = clock.System{}
	if cfg.ControllableClock {
		p.clock = &clock.Offset{}
	}
	var err error
	if p.trust, p.tls, err = loadTLS(cfg); err != nil {
		return nil, err
	}
	sealer, err := p.openSealer()
	if err != nil {
		return nil, err
	}
	if err := p.openStore(); err != nil {
		p.token.Close()
		return nil, err
	}
	if p.spool, err = spool.Open(filepath.Join(cfg.DataDir, "spool")); err != nil {
		p.token.Close()
		return nil, fmt.Errorf("provider: %w", err)
	}
	if p.journal, err = openJournal(filepath.Join(cfg.DataDir, "journal"), p.spool); err != nil {
		p.token.Close()
		return nil, err
	}
	if err := p.openQueue(); err != nil {
		p.token.Close()
		return nil, err
	}
	viruses, err := openVirusStore(filepath.Join(cfg.DataDir, "virus"), p.clock)
	if err != nil {
		p.token.Close()
		return nil, err
	}
	if p.reg, err = txlog.Open(filepath.Join(cfg.DataDir, "registro")); err != nil {
		p.token.Close()
		return nil, fmt.Errorf("provider: registro: %w", err)
	}
	dir, err := p.openIndex()
	if err != nil {
		p.token.Close()
		return nil, err
	}
	p.deps = p.dependencies(dir)
	p.wire(sealer, viruses, dir)
	// The tracker's notices come from the access point, which needs the
	// tracker: the Emit closure breaks the cycle.
	p.track, err = tracker.Open(tracker.Options{Dir: filepath.Join(cfg.DataDir, "tracker"), Clock: p.clock.Now,
		Log: p.log, Emit: func(d tracker.Dispatch, rcpt string, hours int) error {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			return p.ap.Preavviso(ctx, d, rcpt, hours)
		}})
	if err != nil {
		p.token.Close()
		return nil, fmt.Errorf("provider: %w", err)
	}
	p.ap.Tracker, p.rp.Tracker = p.track, p.track
	if err := p.replayJournal(); err != nil {
		p.token.Close()
		return nil, fmt.Errorf("provider: %w", err)
	}
	return p, nil
}

func loadTLS(cfg *Config) (*x509.CertPool, *tls.Config, error) {
	pem, err := os.ReadFile(cfg.Trust)
	if err != nil {
		return nil, nil, fmt.Errorf("provider: trust: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, nil, fmt.Errorf("provider: trust %s: no certificate", cfg.Trust)
	}
	pair, err := tls.LoadX509KeyPair(cfg.TLS.Cert, cfg.TLS.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("provider: tls: %w", err)
	}
	return pool, &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

// openSealer opens the PKCS#11 token and finds the signing key and its
// certificate in it (RFC 6109 §5.1: the key never leaves the token).
func (p *Provider) openSealer() (*compose.Sealer, error) {
	h := p.cfg.HSM
	tok, err := hsm.Open(hsm.Config{Module: h.Module, SoftHSMConf: h.SoftHSMConf, TokenLabel: h.Token,
		PIN: h.PIN, Sessions: h.Sessions, Log: p.log})
	if err != nil {
		return nil, fmt.Errorf("provider: token: %w", err)
	}
	p.token = tok
	key, err := tok.Signer(h.KeyLabel)
	if err == nil {
		var cert *x509.Certificate
		if cert, err = tok.Certificate(h.KeyLabel); err == nil {
			return &compose.Sealer{ProviderName: p.cfg.ProviderName, ServiceAddress: p.cfg.ServiceAddress,
				Domain: p.cfg.Domains[0], Cert: cert, Key: key, HTML: p.cfg.NoticeHTML}, nil
		}
	}
	tok.Close()
	return nil, fmt.Errorf("provider: signing key %q: %w", h.KeyLabel, err)
}

func (p *Provider) openStore() error {
	st, err := mailbox.Open(filepath.Join(p.cfg.DataDir, "mail"))
	if err != nil {
		return fmt.Errorf("provider: mailboxes: %w", err)
	}
	if o := p.cfg.MailOwner; o != nil {
		st.SetOwner(o.UID, o.GID)
	}
	for _, u := range p.cfg.Users {
		if err := st.AddMailbox(u.Address); err != nil {
			return fmt.Errorf("provider: mailbox %s: %w", u.Address, err)
		}
		st.SetQuota(u.Address, u.QuotaBytes)
	}
	p.store = st
	return nil
}

func (p *Provider) openQueue() error {
	router, resolver := p.router()
	q, err := queue.Open(queue.Options{
		Dir:          filepath.Join(p.cfg.DataDir, "queue"),
		Router:       router,
		Resolver:     resolver,
		TLS:          &tls.Config{RootCAs: p.trust, MinVersion: tls.VersionTLS12},
		PlainDomains: p.cfg.PlainDomains,
		HeloName:     p.cfg.Domains[0],
		Clock:        p.clock.Now,
		Lifetime:     p.cfg.QueueLifetime,
		Workers:      p.cfg.QueueWorkers,
		OnFailure:    p.undeliverable,
		Log:          p.log,
	})
	if err != nil {
		return fmt.Errorf("provider: queue: %w", err)
	}
	p.queue = q
	return nil
}

// router is the static routes, and when a DNS server is configured the MX
// records it gives for the other domains (RFC 5321 §5.1).
func (p *Provider) router() (queue.Router, *net.Resolver) {
	static := queue.StaticRoutes(p.cfg.Routes)
	if p.cfg.DNS.Server == "" {
		return static, nil
	}
	server := p.cfg.DNS.Server
	res := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, server)
	}}
	return queue.DNSRoutes{Static: static, Resolver: res, Port: p.cfg.DNS.MXPort}, res
}

// openIndex is the index of providers: slapd, or the signed LDIF files loaded
// once at start (RFC 6109 §4.5 asks for a daily refresh: a restart reloads).
func (p *Provider) openIndex() (index.Directory, error) {
	if p.cfg.Index.URL != "" {
		return index.NewLDAP(p.cfg.Index.URL, p.cfg.Index.Base, p.log), nil
	}
	var all []index.Provider
	for _, path := range p.cfg.Index.LDIF {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("provider: index: %w", err)
		}
		ps, err := index.OpenSignedLDIF(data, p.trust, p.clock.Now())
		if err != nil {
			return nil, fmt.Errorf("provider: index %s: %w", path, err)
		}
		all = append(all, ps...)
	}
	p.log.Info("index loaded from signed LDIF", "files", len(p.cfg.Index.LDIF), "providers", len(all))
	return index.NewMemory(all...), nil
}

func (p *Provider) wire(sealer *compose.Sealer, viruses *virusStore, dir index.Directory) {
	out := &outbox{store: p.store, queue: p.queue}
	reg := registro{p.reg}
	scanner := antivirus.NewClamd("unix", p.cfg.Clamd.Socket)
	p.dp = &deliverypoint.Point{Sealer: sealer, Store: out, Out: out, Clock: p.clock, Registro: reg, Log: p.log,
		Spool: p.spool}
	p.rp = &receptionpoint.Point{Sealer: sealer, Directory: dir, Trust: p.trust, Delivery: toDelivery{p.dp},
		Out: out, Clock: p.clock, Domains: p.cfg.Domains, Scanner: scanner, Viruses: viruses,
		RefusesOrdinary: p.cfg.refusesOrdinary, SimulatesVirus: p.cfg.simulatesVirus, Registro: reg, Log: p.log,
		Spool: p.spool}
	var apOut accesspoint.Output = out
	if p.cfg.ControllableClock {
		p.holds = &holds{}
		p.rp.Holds = p.holds
		p.delay = &delays{}
		apOut = delayedOut{Output: out, d: p.delay}
	}
	p.ap = &accesspoint.Point{Sealer: sealer, Directory: dir, Scanner: scanner, Viruses: viruses,
		Out: apOut, Clock: p.clock, MaxTotal: p.cfg.MaxTotalBytes, Registro: reg, Log: p.log, Spool: p.spool,
		Journal: p.journal}
}

// Run serves every endpoint until ctx is done, then stops them and closes the
// token and the queue.
func (p *Provider) Run(ctx context.Context) error {
	defer p.token.Close()
	defer p.queue.Close()
	defer p.reg.Close()
	ls, err := p.listen()
	if err != nil {
		return err
	}
	lim := p.cfg.Limits.withDefaults()
	domain := p.cfg.Domains[0]
	sub := accesspoint.NewServer(p.ap, newUsers(p.cfg.Users), lim.throttle(p), p.tls, domain, nil)
	mx := receptionpoint.NewServer(p.rp, p.tls, domain, nil)
	sub.ReadTimeout, mx.ReadTimeout = lim.Idle, lim.Idle
	sub.ErrorLog = netguard.ErrorLog{Log: p.log, Listener: "submission"}
	mx.ErrorLog = netguard.ErrorLog{Log: p.log, Listener: "mx"}
	adm := p.adminServer()
	guarded := []*netguard.Listener{lim.guard(p, ls[0], "submission", nil),
		lim.guard(p, ls[1], "mx", netguard.SMTPRefusal(domain)), lim.guard(p, ls[2], "admin", netguard.HTTPRefusal)}
	defer logStats(p.log, guarded)
	errc := make(chan error, 6)
	go func() { errc <- sub.Serve(netguard.TLS(guarded[0], p.tls, lim.TLSHandshake, "submission", p.log)) }()
	go func() { errc <- mx.Serve(guarded[1]) }()
	go func() { errc <- adm.Serve(guarded[2]) }()
	qctx, stopQueue := context.WithCancel(ctx)
	defer stopQueue()
	go func() { errc <- p.queue.Run(qctx) }()
	go func() { errc <- p.track.Run(qctx) }()
	p.log.Info("provider up", "submission", ls[0].Addr().String(), "mx", ls[1].Addr().String(),
		"admin", ls[2].Addr().String())
	select {
	case <-ctx.Done():
		err = nil
	case err = <-errc:
		err = fmt.Errorf("provider: server stopped: %w", err)
	}
	stopQueue()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = adm.Shutdown(sctx)
	_ = sub.Close()
	_ = mx.Close()
	return err
}

// adminServer is the admin API's HTTP server: small requests, answered
// within seconds (/clock/advance waits for the timers it fires).
func (p *Provider) adminServer() *http.Server {
	h := (&admin{name: p.cfg.Name, token: p.cfg.AdminToken, clock: p.clock, advance: p.advance, holds: p.holds,
		health: p.health, delays: p.delay}).handler()
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
		ErrorLog: log.New(netguard.ErrorLog{Log: p.log, Listener: "admin"}, "", 0)}
}

// logStats writes each listener's figures at the end of a run: the peaks
// to size the limits against, and how many connections they refused.
func logStats(log *slog.Logger, ls []*netguard.Listener) {
	for _, l := range ls {
		st := l.Stats()
		log.Info("listener stats", "listener", l.Name(), "peak", st.Peak, "peak_per_ip", st.PeakPerIP, "refused", st.Refused)
	}
}

// advance moves the controllable clock through every timer deadline on the
// way, then lets the queue retry what became due.
func (p *Provider) advance(d time.Duration) {
	o, ok := p.clock.(*clock.Offset)
	if !ok {
		return
	}
	p.track.AdvanceThrough(d, func(step time.Duration) { o.Advance(step) })
	p.queue.Kick()
}

// listen opens submission, MX and admin listeners, in that order.
func (p *Provider) listen() ([]net.Listener, error) {
	admin := p.cfg.Listen.Admin
	if admin == "" {
		admin = "127.0.0.1:0"
	}
	var ls []net.Listener
	for _, addr := range []string{p.cfg.Listen.Submission, p.cfg.Listen.MX, admin} {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			for _, o := range ls {
				o.Close()
			}
			return nil, fmt.Errorf("provider: listen %s: %w", addr, err)
		}
		ls = append(ls, l)
	}
	return ls, nil
}
