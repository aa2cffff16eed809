package main

import (
	"context"
	"crypto/x509"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/probe/load"
	"github.com/pecspec/pecspec/reference/lab"
	"github.com/pecspec/pecspec/report"
)

const loadUsage = "load [--target reference|FILE.yaml] [--lab DIR] [--rate R/s] [--duration D] [--ramp] [--recipients N] [--size BYTES] [--sla EXPR]... [--out DIR]: measure service levels under load"

// loadFlags are `pecspec load`'s options.
type loadFlags struct {
	target, labDir, out, pecref, rate, size, receipt string
	duration, drain                                  time.Duration
	ramp, keep, noDefaults                           bool
	factor, maxRate, sample                          float64
	steps, conns, senders, rcpts                     int
	slas                                             multiFlag
}

func parseLoadFlags(args []string) (*loadFlags, error) {
	f := &loadFlags{}
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.StringVar(&f.target, "target", "reference", `"reference" (start the lab) or a target file`)
	fs.StringVar(&f.labDir, "lab", "", "a running lab (pecspec lab up --enrol): the counterpart comes from it, as for pecspec run --lab")
	fs.StringVar(&f.out, "out", filepath.Join("out", "load"), "where load.json, load.html and failing samples go")
	fs.StringVar(&f.pecref, "pecref", "", "pecref binary for the reference lab")
	fs.StringVar(&f.rate, "rate", "5/s", "messages per second offered (the first step of --ramp)")
	fs.DurationVar(&f.duration, "duration", 30*time.Second, "sending window (each step of --ramp)")
	fs.DurationVar(&f.drain, "drain", time.Minute, "how long receipts are waited for after the window")
	fs.BoolVar(&f.ramp, "ramp", false, "step the rate up until an SLA breaks, and report the knee")
	fs.Float64Var(&f.factor, "ramp-factor", 1.5, "each ramp step offers this many times the previous rate")
	fs.IntVar(&f.steps, "ramp-steps", 12, "at most this many ramp steps")
	fs.Float64Var(&f.maxRate, "ramp-max", 0, "no ramp step above this rate (0: none)")
	fs.IntVar(&f.conns, "connections", 16, "SMTP submission connections")
	fs.IntVar(&f.senders, "senders", 0, "accounts of the target that submit (0: every account in the target file; more come from its bulk_accounts)")
	fs.IntVar(&f.rcpts, "recipients", 1, "recipients per message, at the counterpart")
	fs.StringVar(&f.size, "size", "2KB", "bytes per message (suffix KB or MB: binary units)")
	fs.StringVar(&f.receipt, "receipt", "", "X-TipoRicevuta asked for: completa (default), breve or sintetica")
	fs.Var(&f.slas, "sla", "service level, e.g. 'accettazione.p99<30m', 'consegna.p99<2m', 'lost==0'; repeatable, added to the defaults")
	fs.BoolVar(&f.noDefaults, "no-default-sla", false, "judge only the --sla expressions, not the published levels ("+strings.Join(load.DefaultSLAs, ", ")+")")
	fs.Float64Var(&f.sample, "grade-sample", 0.01, "share of received messages graded against the rule catalogue (the first of each kind always)")
	fs.BoolVar(&f.keep, "keep", false, "leave the run's messages in the mailboxes (default: expunged as they are counted)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return f, nil
}

// options turns the flags into load.Options (the target comes later).
func (f *loadFlags) options() (load.Options, error) {
	rate, err := strconv.ParseFloat(strings.TrimSuffix(f.rate, "/s"), 64)
	if err != nil || rate <= 0 {
		return load.Options{}, fmt.Errorf("--rate %q is not a positive rate (e.g. 20 or 20/s)", f.rate)
	}
	size, err := parseBytes(f.size)
	if err != nil {
		return load.Options{}, err
	}
	exprs := f.slas
	if !f.noDefaults {
		exprs = append(append(multiFlag(nil), load.DefaultSLAs...), f.slas...)
	}
	slas, err := load.ParseSLAs(exprs)
	if err != nil {
		return load.Options{}, err
	}
	if slas == nil {
		slas = []load.SLA{} // --no-default-sla and no --sla: judge nothing
	}
	o := load.Options{Rate: rate, Duration: f.duration, Drain: f.drain, Connections: f.conns, Senders: f.senders,
		Recipients: f.rcpts, Size: size, ReceiptType: f.receipt, SLAs: slas, GradeSample: f.sample, Keep: f.keep}
	if f.ramp {
		o.Ramp = &load.Ramp{Factor: f.factor, MaxSteps: f.steps, MaxRate: f.maxRate}
	}
	return o, nil
}

// parseBytes reads 2048, 2KB, 50MB (binary units).
func parseBytes(s string) (int, error) {
	mult, num := 1, strings.ToUpper(strings.TrimSpace(s))
	for suffix, m := range map[string]int{"KB": 1 << 10, "K": 1 << 10, "MB": 1 << 20, "M": 1 << 20} {
		if v, ok := strings.CutSuffix(num, suffix); ok {
			mult, num = m, v
			break
		}
	}
	n, err := strconv.Atoi(strings.TrimSuffix(num, "B"))
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("--size %q is not a size (2048, 2KB, 50MB)", s)
	}
	return n * mult, nil
}

// cmdLoad runs `pecspec load`: exit 0 every SLA met (a ramp: a knee found),
// 1 an SLA broken or a graded sample failing a MUST rule, 2 a harness error.
func cmdLoad(args []string) int {
	f, err := parseLoadFlags(args)
	if err != nil {
		return exitHarness
	}
	opts, err := f.options()
	if err != nil {
		return fail("%v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	targetFile := f.target
	if f.target == "reference" && f.labDir == "" {
		l, err := lab.Up(ctx, lab.Options{Dir: filepath.Join(f.out, "lab"), Pecref: f.pecref})
		if err != nil {
			return fail("lab: %v", err)
		}
		defer l.Down()
		targetFile = l.TargetFile()
	}
	if opts.Target, _, err = loadTarget(&runFlags{labDir: f.labDir, targetSet: f.target != "reference"}, targetFile); err != nil {
		return fail("%v", err)
	}
	if opts.Roots, err = trustOf(opts.Target); err != nil {
		return fail("%v", err)
	}
	if opts.GradeSample > 0 {
		if opts.Grader, err = grader(opts.Target, opts.Roots); err != nil {
			return fail("%v", err)
		}
		opts.Evidence = &probe.Evidence{Out: f.out}
	}
	opts.Progress = os.Stderr
	if st, err := os.Stderr.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
		opts.Terminal = true
	}
	res, err := load.Run(ctx, opts)
	return finishLoad(res, err, f.out)
}

// finishLoad writes the outputs of what was measured and picks the exit code.
func finishLoad(res *load.Result, err error, out string) int {
	if res != nil {
		res.WriteTable(os.Stdout)
		if werr := res.WriteJSON(filepath.Join(out, "load.json")); werr != nil {
			return fail("%v", werr)
		}
		if werr := res.WriteHTML(filepath.Join(out, "load.html")); werr != nil {
			return fail("%v", werr)
		}
		fmt.Printf("\nwrote %s and %s\n", filepath.Join(out, "load.json"), filepath.Join(out, "load.html"))
	}
	switch {
	case err != nil:
		return fail("load: %v", err)
	case !res.Pass():
		fmt.Fprintln(os.Stderr, "pecspec: load: service levels not met (see the SLA lines and the graded sample above)")
		return exitFail
	}
	return exitOK
}

// trustOf reads the CA bundles of the target and its counterpart.
func trustOf(t *probe.Target) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	for _, p := range []*probe.Target{t, t.Counterpart} {
		if p == nil || p.Trust == "" {
			continue
		}
		data, err := os.ReadFile(p.Path(p.Trust))
		if err != nil {
			return nil, fmt.Errorf("trust of %s: %w", p.Name, err)
		}
		if !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("trust of %s: no PEM certificate", p.Name)
		}
	}
	return pool, nil
}

// grader grades sampled messages with the rule catalogue, against the
// target's index (when its file names one) and CRLs.
func grader(t *probe.Target, roots *x509.CertPool) (load.Grader, error) {
	var crls []string
	for _, p := range []*probe.Target{t, t.Counterpart} {
		if p != nil {
			crls = append(crls, p.CRLFiles()...)
		}
	}
	opts, err := gradeOptions(gradeFlags{index: t.LDAPURL, crls: crls})
	if err != nil {
		return nil, err
	}
	opts.Trust = roots
	return func(raw []byte) []load.Finding {
		var out []load.Finding
		for _, v := range report.Grade(raw, opts).MustFailures() {
			out = append(out, load.Finding{Rule: v.Rule, Detail: v.Detail})
		}
		return out
	}, nil
}
