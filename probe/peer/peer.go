// Package peer runs gamma, the scriptable peer provider of the suite: a
// provider listed in the index with its own SoftHSM token, that receives
// over SMTP whatever the target sends to its domain (kept with the SMTP
// transcript and TLS state) and sends the target crafted traffic: correct
// envelopes, envelopes with a virus, malformed or tampered ones, messages
// signed by a provider that is not in the index, and a rilevazione virus
// about one of the target's messages. It never imports reference code: it
// builds every message from the pec package and signs with pec/smime.
package peer

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/pecspec/pecspec/pec/hsm"
	"github.com/pecspec/pecspec/probe"
)

// ErrPeer wraps every failure to start or run gamma.
var ErrPeer = errors.New("peer")

// Received is one message gamma's MX accepted, with its SMTP transcript.
type Received struct {
	MailFrom string
	RcptTo   []string
	TLS      string // "TLS 1.3 TLS_AES_128_GCM_SHA256", or "none"
	// Raw is the message as stored at final delivery: a Return-Path line
	// with the reverse-path (RFC 5321 §4.4), then the bytes received.
	Raw []byte
	At  time.Time
}

// Peer is a running gamma.
type Peer struct {
	Cfg      probe.Peer
	tok      *hsm.Token
	key      crypto.Signer
	cert     *x509.Certificate
	unlisted crypto.Signer
	ucert    *x509.Certificate
	srv      *smtp.Server
	ln       net.Listener

	mu      sync.Mutex
	offset  time.Duration // gamma's clock: the probe's plus offset
	inbox   []Received
	taken   map[int]bool
	arrived chan struct{} // closed and replaced at each arrival
}

// Start opens gamma's token and listens on its MX. path resolves the target
// file's relative paths.
func Start(cfg probe.Peer, path func(string) string) (*Peer, error) {
	p := &Peer{Cfg: cfg, taken: map[int]bool{}, arrived: make(chan struct{})}
	var err error
	if p.cert, err = readCert(path(cfg.Certificate)); err != nil {
		return nil, err
	}
	if p.ucert, err = readCert(path(cfg.UnlistedCert)); err != nil {
		return nil, err
	}
	pair, err := tls.LoadX509KeyPair(path(cfg.TLSCert), path(cfg.TLSKey))
	if err != nil {
		return nil, fmt.Errorf("%w: TLS: %v", ErrPeer, err)
	}
	if p.tok, err = hsm.Open(hsm.Config{SoftHSMConf: path(cfg.SoftHSMConf), TokenLabel: cfg.TokenLabel, PIN: cfg.PIN, Sessions: 2}); err != nil {
		return nil, fmt.Errorf("%w: token: %v", ErrPeer, err)
	}
	if p.key, err = p.tok.Signer(cfg.KeyLabel); err == nil {
		p.unlisted, err = p.tok.Signer(cfg.UnlistedKey)
	}
	if err != nil {
		p.tok.Close()
		return nil, fmt.Errorf("%w: key: %v", ErrPeer, err)
	}
	if p.ln, err = net.Listen("tcp", cfg.MXListen); err != nil {
		p.tok.Close()
		return nil, fmt.Errorf("%w: listen %s: %v", ErrPeer, cfg.MXListen, err)
	}
	p.srv = smtp.NewServer(&backend{p: p})
	p.srv.Domain = cfg.Domain
	p.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	p.srv.MaxMessageBytes = 64 << 20
	p.srv.MaxRecipients = 10000 // the target's RCPTs are kept: bounded as every read from it
	p.srv.ReadTimeout, p.srv.WriteTimeout = time.Minute, time.Minute
	go func() { _ = p.srv.Serve(p.ln) }()
	return p, nil
}

// Close stops the MX and closes the token.
func (p *Peer) Close() error {
	if p == nil {
		return nil
	}
	return errors.Join(p.srv.Close(), p.tok.Close())
}

func readCert(file string) (*x509.Certificate, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPeer, err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, fmt.Errorf("%w: %s: no PEM certificate", ErrPeer, file)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrPeer, file, err)
	}
	return c, nil
}

// Wait returns the first message not returned before that match accepts,
// waiting for arrivals until ctx ends.
func (p *Peer) Wait(ctx context.Context, match func(Received) bool) (Received, error) {
	seen := 0 // the inbox only grows: each message is matched once per call
	for {
		// match (which parses whatever arrived) runs outside the lock.
		p.mu.Lock()
		inbox := append([]Received(nil), p.inbox[seen:]...)
		arrived := p.arrived
		p.mu.Unlock()
		for j, r := range inbox {
			i := seen + j
			if p.isTaken(i) || !match(r) {
				continue
			}
			if p.take(i) {
				return r, nil
			}
		}
		seen += len(inbox)
		select {
		case <-arrived:
		case <-ctx.Done():
			return Received{}, fmt.Errorf("%w: %v", probe.ErrTimeout, ctx.Err())
		}
	}
}

func (p *Peer) isTaken(i int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.taken[i]
}

// take marks message i returned; false when another Wait took it first.
func (p *Peer) take(i int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.taken[i] {
		return false
	}
	p.taken[i] = true
	return true
}

// All returns every message gamma received so far.
func (p *Peer) All() []Received {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Received(nil), p.inbox...)
}

func (p *Peer) deliver(r Received) {
	p.mu.Lock()
	p.inbox = append(p.inbox, r)
	close(p.arrived)
	p.arrived = make(chan struct{})
	p.mu.Unlock()
}

// Now is gamma's clock: it dates what gamma signs.
func (p *Peer) Now() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return time.Now().Add(p.offset)
}

// SetClock sets gamma's clock to now (the target's, read from its admin
// API): when a scenario advances the target's controllable clock, gamma's
// follows, so the instants the two write stay comparable (TIM-02 and CON-09
// compare gamma's receipts with the target's dispatch).
func (p *Peer) SetClock(now time.Time) {
	p.mu.Lock()
	p.offset = time.Until(now)
	p.mu.Unlock()
}

// Manages reports whether addr is an address of gamma's domain.
func (p *Peer) Manages(addr string) bool {
	_, d, ok := strings.Cut(addr, "@")
	return ok && strings.EqualFold(d, p.Cfg.Domain)
}
