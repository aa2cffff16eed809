package flowtest

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cpu is a process's CPU time so far: in all, and of it in the kernel.
type cpu struct{ total, sys time.Duration }

// cpuTimes reads each process's CPU time so far (user + system, from
// /proc/<pid>/stat, whose clock ticks are USER_HZ = 100 on Linux).
func cpuTimes(b testing.TB, pids map[string]int) map[string]cpu {
	out := map[string]cpu{}
	for name, pid := range pids {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			b.Fatal(err)
		}
		// Fields after the command name, which is in parentheses and may hold spaces.
		i := strings.LastIndexByte(string(data), ')')
		f := strings.Fields(string(data[i+1:]))
		if len(f) < 13 {
			b.Fatalf("%s: short /proc stat", name)
		}
		utime, err1 := strconv.ParseInt(f[11], 10, 64)
		stime, err2 := strconv.ParseInt(f[12], 10, 64)
		if err1 != nil || err2 != nil {
			b.Fatalf("%s: /proc stat: %q %q", name, f[11], f[12])
		}
		out[name] = cpu{time.Duration(utime+stime) * 10 * time.Millisecond, time.Duration(stime) * 10 * time.Millisecond}
	}
	return out
}

// cpuReport prints the CPU time per certified message of each process in
// the run, and the ratio the pair could reach at most if the reference cost
// nothing but its four signatures: the other processes (clamd's two scans,
// the submitting clients) share the same cores. One signature costs
// cores ÷ signatures/s of CPU, as the token measurement kept every core busy.
func cpuReport(b testing.TB, n int, sigs float64, before, after map[string]cpu) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(n) }
	per := func(name string) float64 { return ms(after[name].total - before[name].total) }
	sys := func(name string) float64 { return ms(after[name].sys - before[name].sys) }
	cores := float64(runtime.NumCPU())
	sign := 4 * cores / sigs * 1000 // ms of CPU for the four signatures
	others := per("clamd") + per("clients")
	bound := cores * 1000 / (sign + others) * 4 / sigs
	fmt.Printf("certified CPU per message: alpha %.2f ms (kernel %.2f), beta %.2f ms (kernel %.2f), clamd %.2f ms, "+
		"clients %.2f ms; the four signatures %.2f ms; ratio bound with a reference that did nothing but sign: %.2f\n",
		per("alpha"), sys("alpha"), per("beta"), sys("beta"), per("clamd"), per("clients"), sign, bound)
}
