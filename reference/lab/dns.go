package lab

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The lab's DNS is dnsmasq (Debian package dnsmasq-base: one binary, no
// service, no system configuration), run from a private configuration with
// no upstream server: it answers only for the lab's and the enrolled
// provider's domains, MX and A records, so a provider that routes by DNS
// (any Postfix- or Exim-based one) finds every lab MX without a static map.

// DNSRecord is one mail domain: its MX host and that host's IPv4 address.
type DNSRecord struct {
	Domain string
	MXHost string // mx.<domain>
	IP     string // "" when the host is not in the lab's hands (no A record)
}

// DNS is the running dnsmasq.
type DNS struct {
	Addr    string // host:port, UDP and TCP
	Records []DNSRecord
	proc    *Proc
}

// dnsmasqConf: foreground, no /etc/hosts, no resolv.conf, no upstream, a
// private pid and log file. The lab's DNS is the whole world of the lab:
// local=/#/ answers NXDOMAIN for every name it does not hold (without it
// dnsmasq answers REFUSED, which a mail queue must take for a temporary
// failure), so a domain outside the lab has no route (RFC 5321 §5.1) and its
// recipients get their avviso di mancata consegna at once.
const dnsmasqConf = `keep-in-foreground
port=%[2]d
listen-address=%[1]s
bind-interfaces
no-resolv
no-hosts
no-poll
no-negcache
local=/#/
pid-file=%[3]s/dnsmasq.pid
log-facility=%[3]s/dnsmasq.log
`

// StartDNS writes dnsmasq's configuration in dir, starts it on host:port and
// waits until it answers the MX query of the first record.
func StartDNS(ctx context.Context, dir, host string, port int, records []DNSRecord, log *slog.Logger) (*DNS, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLab, err)
	}
	conf := fmt.Sprintf(dnsmasqConf, host, port, dir)
	if os.Geteuid() == 0 {
		conf += "user=root\ngroup=root\n" // keep root: no dnsmasq or nobody user needed
	}
	conf += dnsmasqRecords(records)
	if err := writeFiles(dir, map[string][]byte{"dnsmasq.conf": []byte(conf)}); err != nil {
		return nil, err
	}
	d := &DNS{Addr: net.JoinHostPort(host, strconv.Itoa(port)), Records: records}
	var err error
	d.proc, err = StartProc(ctx, "dnsmasq", filepath.Join(dir, "dnsmasq.out"), nil,
		"dnsmasq", "--conf-file="+filepath.Join(dir, "dnsmasq.conf"))
	if err != nil {
		return nil, err
	}
	if err := waitUntil(ctx, d.proc, dnsReady, d.check); err != nil {
		d.proc.Stop(time.Second)
		return nil, err
	}
	if log != nil {
		log.Info("dns up", "addr", d.Addr, "domains", len(records))
	}
	return d, nil
}

// dnsReady bounds dnsmasq's start.
const dnsReady = 10 * time.Second

// check asks the MX of the first record: dnsmasq is ready.
func (d *DNS) check() error {
	if len(d.Records) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := d.Resolver().LookupMX(ctx, d.Records[0].Domain)
	return err
}

// dnsmasqRecords renders local=, mx-host= and host-record= lines, sorted.
func dnsmasqRecords(records []DNSRecord) string {
	var lines []string
	for _, r := range records {
		lines = append(lines, "local=/"+r.Domain+"/", "mx-host="+r.Domain+","+r.MXHost+",10")
		if r.IP != "" {
			lines = append(lines, "host-record="+r.MXHost+","+r.IP)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

// Resolver asks this DNS server only.
func (d *DNS) Resolver() *net.Resolver {
	addr := d.Addr
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, network, addr)
	}}
}

// Stop ends dnsmasq.
func (d *DNS) Stop() error {
	if d == nil || d.proc == nil {
		return nil
	}
	return d.proc.Stop(5 * time.Second)
}
