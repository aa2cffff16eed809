package scenarios

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// progress prints the run's progress: one line per scenario as it ends,
// "[17/41] PASSED   name  (4 messages, 0 MUST failures)", with the reason
// of a scenario that did not pass indented below it. On a terminal (live)
// a passed scenario only updates one status line in place, so the screen
// keeps the failures and the counter; elsewhere (a pipe, a CI log) every
// scenario gets its plain line.
type progress struct {
	mu     sync.Mutex
	w      io.Writer
	live   bool
	total  int
	done   int
	failed int
	shown  bool // a live status line is on screen
}

func newProgress(w io.Writer, live bool, total int) *progress {
	return &progress{w: w, live: live, total: total}
}

// scenario reports an ended scenario.
func (p *progress) scenario(res *ScenarioResult) {
	must := 0
	for _, m := range res.Messages {
		must += len(mustOf(m.Verdicts))
	}
	must += len(mustOf(res.Transaction))
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if res.Status != "passed" && res.Status != "skipped" {
		p.failed++
	}
	line := fmt.Sprintf("%s %-9s %s  (%d messages, %d MUST failures)", p.counter(), strings.ToUpper(res.Status), res.Name, len(res.Messages), must)
	if p.live && (res.Status == "passed" || res.Status == "skipped") {
		p.status(line)
		return
	}
	if res.Error != "" && res.Status != "passed" {
		pad := "\n" + strings.Repeat(" ", len(p.counter())+11)
		line += pad + strings.ReplaceAll(res.Error, "\n", pad)
	}
	p.clear()
	fmt.Fprintln(p.w, line)
	if p.live {
		p.status(fmt.Sprintf("%s %d not passed so far", p.counter(), p.failed))
	}
}

// counter is "[17/41]" (the total is known before the run starts).
func (p *progress) counter() string {
	width := len(fmt.Sprint(p.total))
	return fmt.Sprintf("[%*d/%d]", width, p.done, p.total)
}

// status rewrites the live line (cut to a terminal's usual width).
func (p *progress) status(line string) {
	if r := []rune(line); len(r) > 100 {
		line = string(r[:99]) + "…"
	}
	fmt.Fprintf(p.w, "\r%s\x1b[K", line)
	p.shown = true
}

// clear erases the live line before other output.
func (p *progress) clear() {
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}

// printf prints a line of its own (a warning, a panic's trace) without
// breaking the live line.
func (p *progress) printf(format string, a ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	fmt.Fprintf(p.w, format, a...)
}

// end erases the live line: the tables follow.
func (p *progress) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
}
