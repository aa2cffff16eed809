package netguard

import (
	"net"
	"net/netip"
)

// Peer is the address a per-peer limit counts against: the remote IP, or
// for IPv6 its /64, a single subscriber's usual assignment (RFC 6177 §2), so
// that a peer rotating addresses within its own prefix stays one peer. An
// address that is not IP (a Unix socket) is the zero Addr: all such peers
// are one.
func Peer(a net.Addr) netip.Addr {
	var ip netip.Addr
	switch v := a.(type) {
	case *net.TCPAddr:
		ip = v.AddrPort().Addr()
	case nil:
		return netip.Addr{}
	default:
		ap, err := netip.ParseAddrPort(a.String())
		if err != nil {
			return netip.Addr{}
		}
		ip = ap.Addr()
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.WithZone("").Prefix(64)
		return p.Addr()
	}
	return ip
}
