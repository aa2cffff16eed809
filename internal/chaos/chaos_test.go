package chaos

import (
	"crypto/x509"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pecspec/pecspec/internal/faultproxy"
	"github.com/pecspec/pecspec/reference/lab"
	"github.com/pecspec/pecspec/reference/lab/labtest"
)

// settings are the run's knobs; the environment may change them for a
// shorter run while developing (PECSPEC_CHAOS_MESSAGES, _SEED, _RATE).
type settings struct {
	messages int     // certified messages, half each way
	seed     uint64  // the random plan: kill order, recipients, event points
	rate     float64 // new submissions per second
	workers  int     // concurrent submitting clients
}

func settingsFromEnv() settings {
	s := settings{messages: 1000, seed: uint64(time.Now().UnixNano()), rate: 15, workers: 8}
	if n, err := strconv.Atoi(os.Getenv("PECSPEC_CHAOS_MESSAGES")); err == nil && n >= 100 {
		s.messages = n
	}
	if n, err := strconv.ParseUint(os.Getenv("PECSPEC_CHAOS_SEED"), 10, 64); err == nil {
		s.seed = n
	}
	if r, err := strconv.ParseFloat(os.Getenv("PECSPEC_CHAOS_RATE"), 64); err == nil && r > 0 {
		s.rate = r
	}
	return s
}

// run is one chaos run: the lab, the proxies between its providers, the
// plan, and what the clients and the faults recorded.
type run struct {
	t       *testing.T
	set     settings
	rng     *rand.Rand
	l       *lab.Lab
	pool    *x509.CertPool
	proxies map[string]*faultproxy.Proxy // by the instance they lead to
	live    map[string]*liveness         // alpha, beta
	msgs    []*message
	events  []*event
	log     attemptLog
	mem     *memory
	start   time.Time
	load    [2]string // /proc/loadavg at the start and at the end
}

// TestChaos is the chaos run (make chaos; package doc).
func TestChaos(t *testing.T) {
	if os.Getenv("PECSPEC_CHAOS") == "" {
		t.Skip("the chaos run: make chaos runs it (PECSPEC_CHAOS=1)")
	}
	r := &run{t: t, set: settingsFromEnv(), start: time.Now(), load: [2]string{loadavg(), ""}}
	r.rng = rand.New(rand.NewPCG(r.set.seed, r.set.seed^0x9e3779b97f4a7c15))
	t.Logf("seed %d (PECSPEC_CHAOS_SEED=%d repeats this plan)", r.set.seed, r.set.seed)
	r.up()
	r.plan()
	c := r.newClient()
	c.start()
	r.inject(c)
	c.wait()
	submitted := time.Since(r.start)
	settled, advanced := r.settle()
	r.mem.stop()
	v := r.verify()
	reg := r.registri()
	r.load[1] = loadavg()
	r.print(c, v, reg, submitted, settled, advanced)
	r.judge(v, reg)
}

// up starts one proxy per direction, then the lab with each instance's
// route to the other through its proxy, then the memory sampler.
func (r *run) up() {
	t := r.t
	r.proxies = map[string]*faultproxy.Proxy{}
	routes := map[string]string{}
	for _, name := range []string{"alpha", "beta"} {
		p, err := faultproxy.Listen("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		p.SetLatency(proxyLatency[0], proxyLatency[1])
		r.proxies[name] = p
		routes["pec."+name+".test"] = p.Addr()
	}
	r.l = labtest.UpWith(t, lab.Options{Routes: routes})
	r.live = map[string]*liveness{}
	for name, p := range r.proxies {
		p.SetUpstream(r.l.Provider(name).MXAddr())
		r.live[name] = newLiveness()
	}
	pem, err := os.ReadFile(r.l.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	r.pool = x509.NewCertPool()
	r.pool.AppendCertsFromPEM(pem)
	r.mem = newMemory(r.pids())
	t.Cleanup(r.mem.stop)
}

// proxyLatency is the delay of every chunk between the providers.
var proxyLatency = [2]time.Duration{time.Millisecond, 15 * time.Millisecond}

// pids are the processes whose peak memory is measured.
func (r *run) pids() map[string]int {
	return map[string]int{"alpha": r.l.Provider("alpha").Pid(), "beta": r.l.Provider("beta").Pid(),
		lab.DaemonClamd: r.l.DaemonPid(lab.DaemonClamd), lab.DaemonSlapd: r.l.DaemonPid(lab.DaemonSlapd)}
}

// loadavg is the machine's load average over 1, 5 and 15 minutes.
func loadavg() string {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
