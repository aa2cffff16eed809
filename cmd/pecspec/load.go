package main

import (
	"crypto/x509"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/probe/load"
	"github.com/pecspec/pecspec/reference/lab"
	"github.com/pecspec/pecspec/report"
)

const loadUsage = `usage: pecspec load [flags]

Measure a provider's service levels under load, from the outside: certified
messages are submitted on a fixed schedule (open loop: never waiting for the
previous one, so a stall shows in every message scheduled during it) over the
target's SMTP submission, and the receipts are watched over IMAP IDLE in the
senders' and recipients' mailboxes. Per receipt kind (accettazione, presa in
carico, avvenuta consegna, errors): the latency from the intended send time
and from the end of DATA, the provider's daticert instant against the
submission, percentiles p50/p90/p99/p99.9/max (HdrHistogram), throughput
achieved against offered, errors by SMTP reply code, messages whose receipts
never came; a sample of the receipts is graded. Then the service levels are
judged. With --ramp the rate goes up step by step until a level breaks: the
knee is the highest rate that met them all. Writes load.json, load.html and
a console table (docs/performance.md).

flags:
  --target reference|FILE  the provider: the reference lab (default, started in
                           OUT/lab) or a target file
  --lab DIR                the running lab a provider under test was enrolled in
  --out DIR                load.json, load.html, failing samples (default out/load)
  --rate R                 messages per second offered, 20 or 20/s (default 5/s)
  --duration D             the sending window (each ramp step's; default 30s)
  --drain D                how long receipts are waited for after it (default 1m)
  --ramp                   step the rate up until a service level breaks
  --ramp-factor F          each step offers F times the previous rate (default 1.5)
  --ramp-steps N           at most N steps (default 12)
  --ramp-max R             no step above R messages/s (default: none)
  --connections N          SMTP submission connections (default 16)
  --senders N              submitting accounts (default: the target file's; more
                           come from its bulk_accounts)
  --recipients N           recipients per message, at the counterpart (default 1)
  --size BYTES             bytes per message, 2KB or 50MB (default 2KB)
  --receipt TYPE           X-TipoRicevuta asked for: completa, breve, sintetica
  --sla EXPR               a service level, repeatable: 'accettazione.p99<30m',
                           'consegna.p99<2m', 'lost==0', 'errors==0'
  --no-default-sla         judge only the --sla expressions, not the published
                           levels (` + "accettazione.p99<30m, lost==0, errors==0" + `)
  --grade-sample F         share of received messages graded (default 0.01; the
                           first of each kind always)
  --keep                   leave the run's messages in the mailboxes
  --pecref PATH            pecref binary for the reference lab

exit codes:
  0  every service level met (with --ramp: a knee was found)
  1  a service level broken, or a graded sample failing a MUST rule (named)
  2  a harness error: bad flags or files, an endpoint unreachable (one line
     naming it), or the run interrupted

examples:
  pecspec load --rate 20 --duration 1m
  pecspec load --ramp --rate 10 --sla 'consegna.p99<2m'
  pecspec load --target acme.yaml --lab .lab --size 50MB --rate 0.2
`

// loadFlags are `pecspec load`'s options.
type loadFlags struct {
	target, labDir, out, pecref, rate, size, receipt string
	duration, drain                                  time.Duration
	ramp, keep, noDefaults                           bool
	factor, maxRate, sample                          float64
	steps, conns, senders, rcpts                     int
	slas                                             multiFlag
}

// loadFlagSet defines the flags of `pecspec load` on fs (loadUsage
// describes them).
func loadFlagSet(fs *flag.FlagSet, f *loadFlags) {
	fs.StringVar(&f.target, "target", "reference", "")
	fs.StringVar(&f.labDir, "lab", "", "")
	fs.StringVar(&f.out, "out", filepath.Join("out", "load"), "")
	fs.StringVar(&f.pecref, "pecref", "", "")
	fs.StringVar(&f.rate, "rate", "5/s", "")
	fs.DurationVar(&f.duration, "duration", 30*time.Second, "")
	fs.DurationVar(&f.drain, "drain", time.Minute, "")
	fs.BoolVar(&f.ramp, "ramp", false, "")
	fs.Float64Var(&f.factor, "ramp-factor", 1.5, "")
	fs.IntVar(&f.steps, "ramp-steps", 12, "")
	fs.Float64Var(&f.maxRate, "ramp-max", 0, "")
	fs.IntVar(&f.conns, "connections", 16, "")
	fs.IntVar(&f.senders, "senders", 0, "")
	fs.IntVar(&f.rcpts, "recipients", 1, "")
	fs.StringVar(&f.size, "size", "2KB", "")
	fs.StringVar(&f.receipt, "receipt", "", "")
	fs.Var(&f.slas, "sla", "")
	fs.BoolVar(&f.noDefaults, "no-default-sla", false, "")
	fs.Float64Var(&f.sample, "grade-sample", 0.01, "")
	fs.BoolVar(&f.keep, "keep", false, "")
}

func parseLoadFlags(args []string) (*loadFlags, error) {
	f := &loadFlags{}
	fs := newFlagSet("load")
	loadFlagSet(fs, f)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("unexpected argument %q: load takes flags only (the provider is --target FILE)", rest[0])
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
		return usageError("load", err)
	}
	opts, err := f.options()
	if err != nil {
		return usageError("load", err)
	}
	ctx, stop := interruptible()
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
