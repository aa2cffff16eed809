package chaos

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rssLimit is a pecref's memory bound, in KiB. pecref has no configured
// memory limit (the soft limit went with internal/memory, docs/performance.md):
// its bound is the documented one of issue 17 (docs/reference.md, "Messages in
// progress"; asserted by internal/flowtest TestRefusedTransfersStayBounded):
// 64 MiB, the largest message it maps while verifying it, plus 24 MiB for
// everything else. slapd and clamd have no limit; their peaks are reported.
const rssLimit = (64 + 24) << 10

// memory follows the peak resident memory (VmHWM) of the run's processes:
// each incarnation's is read periodically and right before it is killed,
// and the peak per name is the largest over its incarnations.
type memory struct {
	mu   sync.Mutex
	pids map[string]int
	peak map[string]int // KiB
	quit chan struct{}
	done chan struct{}
}

// sampleEvery is the sampler's period.
const sampleEvery = 250 * time.Millisecond

func newMemory(pids map[string]int) *memory {
	m := &memory{pids: pids, peak: map[string]int{}, quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		tick := time.NewTicker(sampleEvery)
		defer tick.Stop()
		for {
			select {
			case <-m.quit:
				return
			case <-tick.C:
				m.sample()
			}
		}
	}()
	return m
}

// sample reads every process's VmHWM now.
func (m *memory) sample() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, pid := range m.pids {
		if kb, err := vmHWM(pid); err == nil && kb > m.peak[name] {
			m.peak[name] = kb
		}
	}
}

// track follows name's new process after a restart.
func (m *memory) track(name string, pid int) {
	m.mu.Lock()
	m.pids[name] = pid
	m.mu.Unlock()
}

// stop ends the sampler after a last sample; a second call does nothing.
func (m *memory) stop() {
	select {
	case <-m.quit:
		return
	default:
	}
	m.sample()
	close(m.quit)
	<-m.done
}

// peaks returns the peak per name, KiB.
func (m *memory) peaks() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int{}
	for k, v := range m.peak {
		out[k] = v
	}
	return out
}

// vmHWM reads a process's peak resident set size in KiB (proc(5)).
func vmHWM(pid int) (int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmHWM", pid)
}
