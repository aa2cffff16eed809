package lab

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
)

// The fixed port layout of `pecspec lab up --ports BASE`: every endpoint of
// the lab is at BASE plus a fixed offset, so a provider under test configured
// once keeps working after a lab restart. Without --ports each endpoint gets
// a free port at start-up.
//
//	offset  endpoint                                 address
//	+0      DNS (UDP and TCP)                        the lab address (--listen)
//	+1      LDAP, the index (slapd)                  the lab address
//	+2      SMTP MX of every lab domain              each domain's own MX address (below)
//	+10     alpha: submission +10, IMAPS +11, POP3S +12, admin HTTP +13 (IMAPS, POP3S: Dovecot)
//	+20     beta:  submission +20, IMAPS +21, POP3S +22, admin HTTP +23
//	+30     external domain: IMAPS +31, POP3S +32 (+30 unused: it has no submission)
//
// The MX addresses follow the lab address: alpha +1, beta +2, gamma +3, the
// external domain +4 (127.0.0.2 … 127.0.0.5 for the default 127.0.0.1). One
// address per domain and one port for all is what lets a provider route by
// DNS alone: an MX record names a host, never a port (RFC 5321 §5.1).
const (
	offDNS      = 0
	offLDAP     = 1
	offMX       = 2
	offAlpha    = 10
	offBeta     = 20
	offExternal = 30
	maxOffset   = 33
)

// Slots within an instance's block.
const (
	slotSubmission = 0
	slotIMAP       = 1
	slotPOP3       = 2
	slotAdmin      = 3
)

// mxOrder is the order of the MX addresses after the lab address.
var mxOrder = []string{"alpha", "beta", GammaName, "external"}

// layout assigns the lab's addresses and ports.
type layout struct {
	listen netip.Addr // the lab address
	base   int        // 0: free ports
	mxPort int
	mx     map[string]string // party → MX address
}

// newLayout checks ADDR and BASE and picks the MX port: BASE+2, or a port
// free at every MX address.
func newLayout(listen string, base int) (*layout, error) {
	if listen == "" {
		listen = "127.0.0.1"
	}
	ip, err := netip.ParseAddr(listen)
	if err != nil || !ip.Is4() {
		return nil, fmt.Errorf("%w: --listen %q is not an IPv4 address", ErrLab, listen)
	}
	if base != 0 && (base < 1024 || base+maxOffset > 65535) {
		return nil, fmt.Errorf("%w: --ports %d: BASE must be between 1024 and %d", ErrLab, base, 65535-maxOffset)
	}
	ly := &layout{listen: ip, base: base, mx: map[string]string{}}
	next := ip
	for _, name := range mxOrder {
		next = next.Next()
		if !next.Is4() || next.As4()[3] == 0 || next.As4()[3] == 255 {
			return nil, fmt.Errorf("%w: --listen %s leaves no room for the four MX addresses after it", ErrLab, listen)
		}
		ly.mx[name] = next.String()
	}
	if base != 0 {
		ly.mxPort = base + offMX
		return ly, nil
	}
	if ly.mxPort, err = ly.commonFreePort(); err != nil {
		return nil, err
	}
	return ly, nil
}

// Addr is the lab address.
func (ly *layout) Addr() string { return ly.listen.String() }

// hostPort joins the lab address and port.
func (ly *layout) hostPort(port int) string { return net.JoinHostPort(ly.Addr(), strconv.Itoa(port)) }

// port is BASE+off, or a port free at the lab address now.
func (ly *layout) port(off int) (int, error) {
	if ly.base != 0 {
		return ly.base + off, nil
	}
	return freePortAt(ly.Addr())
}

// instanceBlock is the offset of an instance's block.
func instanceBlock(name string) int {
	if name == "beta" {
		return offBeta
	}
	return offAlpha
}

// commonFreePort finds a TCP port free at every MX address.
func (ly *layout) commonFreePort() (int, error) {
	var last error
	for range 20 {
		p, err := freePortAt(ly.mx[mxOrder[0]])
		if err != nil {
			return 0, fmt.Errorf("%w: MX address %s: %v (on Linux all of 127.0.0.0/8 is local; another address must be configured on an interface)",
				ErrLab, ly.mx[mxOrder[0]], err)
		}
		if last = ly.checkMXPort(p); last == nil {
			return p, nil
		}
	}
	return 0, fmt.Errorf("%w: no port free at every MX address: %v", ErrLab, last)
}

// checkMXPort reports whether port is free at every MX address.
func (ly *layout) checkMXPort(port int) error {
	for _, name := range mxOrder {
		if err := checkFree("tcp", net.JoinHostPort(ly.mx[name], strconv.Itoa(port))); err != nil {
			return err
		}
	}
	return nil
}

// checkFixed checks, with --ports, that every port of the layout is free
// before anything starts: a clear message instead of a daemon's bind error.
func (ly *layout) checkFixed() error {
	if ly.base == 0 {
		return nil
	}
	fixed := map[string]int{"DNS": offDNS, "LDAP": offLDAP}
	for name, block := range map[string]int{"alpha": offAlpha, "beta": offBeta} {
		fixed[name+" submission"] = block + slotSubmission
		fixed[name+" IMAPS"] = block + slotIMAP
		fixed[name+" POP3S"] = block + slotPOP3
		fixed[name+" admin"] = block + slotAdmin
	}
	fixed["external IMAPS"] = offExternal + slotIMAP
	fixed["external POP3S"] = offExternal + slotPOP3
	for what, off := range fixed {
		if err := checkFree("tcp", ly.hostPort(ly.base+off)); err != nil {
			return ly.unavailable(what, ly.base+off, err)
		}
	}
	if err := checkFree("udp", ly.hostPort(ly.base+offDNS)); err != nil {
		return ly.unavailable("DNS (UDP)", ly.base+offDNS, err)
	}
	if err := ly.checkMXPort(ly.mxPort); err != nil {
		return ly.unavailable("MX", ly.mxPort, err)
	}
	return nil
}

// unavailable says why a port of the layout cannot be had: taken by another
// program, or an address that is not on this host.
func (ly *layout) unavailable(what string, port int, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%w: --ports %d: %s port %d is taken (another lab or program): choose another BASE", ErrLab, ly.base, what, port)
	}
	return fmt.Errorf("%w: --ports %d: %s port %d cannot be opened: %v (with --listen, the four MX addresses after it must exist on this host)",
		ErrLab, ly.base, what, port, err)
}

// checkFree binds addr and lets it go.
func checkFree(network, addr string) error {
	if network == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return l.Close()
}

// handed are the ports freePortAt returned, per host: the kernel may give a
// port just released to the next bind to port 0, so two picks in a row (a
// Dovecot's IMAPS and POP3S) could get the same one — seen as Dovecot's
// "duplicate listener". A lab's picks never repeat in one process.
var handed = struct {
	sync.Mutex
	ports map[string]bool
}{ports: map[string]bool{}}

// freePortAt returns a TCP port free at host now and not returned before
// by this process (up to a few thousand picks, then it forgets).
func freePortAt(host string) (int, error) {
	handed.Lock()
	defer handed.Unlock()
	if len(handed.ports) > 4096 {
		clear(handed.ports)
	}
	for try := 0; ; try++ {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		key := net.JoinHostPort(host, strconv.Itoa(port))
		if !handed.ports[key] || try == 16 {
			handed.ports[key] = true
			return port, nil
		}
	}
}

// dnsPort is BASE+0, or a port free for both UDP and TCP at the lab address.
func (ly *layout) dnsPort() (int, error) {
	if ly.base != 0 {
		return ly.base + offDNS, nil
	}
	for range 20 {
		p, err := freePortAt(ly.Addr())
		if err != nil {
			return 0, err
		}
		if checkFree("udp", ly.hostPort(p)) == nil {
			return p, nil
		}
	}
	return 0, fmt.Errorf("%w: no port free for DNS over UDP and TCP at %s", ErrLab, ly.Addr())
}
