package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/pecspec/pecspec/probe"
	"github.com/pecspec/pecspec/report"
)

// Real-time mode. Against a target whose clock cannot be advanced, "the
// target's clock advances by N hours" means waiting until N hours (in all,
// since the submission) have really passed. A run does not sleep for that:
// the scenario is suspended (status pending) with everything it did so far
// in <out>/resume.json, and `pecspec run --resume <out>` runs it again later:
// the steps already done are replayed from the saved state, not redone, and
// the suspended step goes on if its time has come, or suspends again.

// ResumeFile is the name of the suspended scenarios' state in the output.
const ResumeFile = "resume.json"

// ResumeState is resume.json.
type ResumeState struct {
	Target    string      `json:"target"`        // the target file, absolute
	Lab       string      `json:"lab,omitempty"` // the lab directory of --lab, absolute
	Scenarios []Suspended `json:"scenarios"`
}

// Suspended is one scenario waiting in real time.
type Suspended struct {
	Name      string            `json:"name"`
	Path      string            `json:"path"` // feature:line, for godog
	Due       time.Time         `json:"due"`  // when the waiting step can go on
	Done      int               `json:"done"` // steps done before the waiting one
	Elapsed   time.Duration     `json:"elapsed"`
	Token     string            `json:"token"`
	Sub       report.Submission `json:"submission"`
	Parties   []savedParty      `json:"parties"`
	Sender    string            `json:"sender_party,omitempty"`
	Rcpts     []string          `json:"recipient_parties,omitempty"`
	Caps      []savedCapture    `json:"captures"`
	Result    *ScenarioResult   `json:"result"`
	Submitted time.Time         `json:"submitted"`
}

type savedParty struct {
	Key     string `json:"key"` // handle or handle@role
	Handle  string `json:"handle"`
	Role    string `json:"role"`
	Address string `json:"address"`
	Unknown bool   `json:"unknown,omitempty"`
}

type savedCapture struct {
	File    string `json:"file"` // relative to the output directory
	Mailbox string `json:"mailbox"`
	Service bool   `json:"service,omitempty"`
	AtMX    bool   `json:"at_mx,omitempty"`
}

// errSuspended is the step error of a scenario that waits in real time.
type errSuspended struct{ due time.Time }

func (e errSuspended) Error() string {
	return fmt.Sprintf("waits in real time until %s: resume with pecspec run --resume", e.due.Format(time.RFC3339))
}

// Is makes a suspension a godog pending step.
func (e errSuspended) Is(target error) bool { return target == godog.ErrPending }

// waitRealTime is the real-time mode of "the target's clock advances by d":
// it returns nil when d more (in all since the submission) has passed, or
// suspends the scenario.
func (w *World) waitRealTime(d time.Duration) error {
	if w.res.Submitted.IsZero() {
		return harnessf("nothing was submitted in this scenario to wait from")
	}
	due := w.res.Submitted.Add(w.elapsed + d)
	if now := w.r.now(); now.Before(due) {
		w.suspendAt = due
		return errSuspended{due: due}
	}
	w.elapsed += d
	return nil
}

// suspend saves w for resume.json.
func (w *World) suspend() Suspended {
	s := Suspended{Name: w.res.Name, Path: w.path, Due: w.suspendAt, Done: w.done, Elapsed: w.elapsed, Token: w.token,
		Sub: w.sub, Result: w.res, Submitted: w.res.Submitted}
	for key, p := range w.parties {
		s.Parties = append(s.Parties, savedParty{Key: key, Handle: p.handle, Role: p.role, Address: p.Address(), Unknown: p.unknown})
	}
	if w.sender != nil {
		s.Sender = w.sender.Address()
	}
	for _, p := range w.rcpts {
		s.Rcpts = append(s.Rcpts, p.Address())
	}
	for i, c := range w.caps {
		if i < len(w.res.Messages) {
			s.Caps = append(s.Caps, savedCapture{File: w.res.Messages[i].File, Mailbox: c.Mailbox, Service: c.Service, AtMX: c.AtMX})
		}
	}
	return s
}

// restore puts a suspended scenario's state back into w: the steps it had
// done are replayed (skipped) and its captures read back from the evidence.
func (w *World) restore(s Suspended) error {
	w.token, w.sub, w.elapsed, w.replay = s.Token, s.Sub, s.Elapsed, s.Done
	if s.Result != nil {
		w.res.Messages, w.res.Sent, w.res.Submitted, w.res.Sender = s.Result.Messages, s.Result.Sent, s.Submitted, s.Result.Sender
	}
	byAddr := map[string]*party{}
	for _, sp := range s.Parties {
		p, ok := byAddr[strings.ToLower(sp.Address)]
		if !ok {
			var err error
			if p, err = w.r.resolve(sp.Handle, sp.Role); err != nil {
				return err
			}
			if sp.Unknown {
				p.account.Address = sp.Address
			}
			byAddr[strings.ToLower(sp.Address)] = p
		}
		w.parties[sp.Key] = p
	}
	if s.Sender != "" {
		w.sender = byAddr[strings.ToLower(s.Sender)]
		if w.sender == nil {
			w.sender = &party{handle: "sender", account: probe.Account{Address: s.Sender}}
		}
	}
	for _, a := range s.Rcpts {
		if p := byAddr[strings.ToLower(a)]; p != nil {
			w.rcpts = append(w.rcpts, p)
		}
	}
	for _, c := range s.Caps {
		raw, err := os.ReadFile(filepath.Join(w.r.opts.Out, c.File))
		if err != nil {
			return fmt.Errorf("%w: resume %q: %v", ErrHarness, s.Name, err)
		}
		w.caps = append(w.caps, report.Captured{Mailbox: c.Mailbox, Service: c.Service, AtMX: c.AtMX, Raw: raw})
	}
	return nil
}

// LoadResume reads <dir>/resume.json.
func LoadResume(dir string) (*ResumeState, error) {
	data, err := os.ReadFile(filepath.Join(dir, ResumeFile))
	if err != nil {
		return nil, fmt.Errorf("%w: resume: %v", ErrHarness, err)
	}
	var st ResumeState
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%w: resume: %s: %v", ErrHarness, ResumeFile, err)
	}
	if len(st.Scenarios) == 0 {
		return nil, fmt.Errorf("%w: resume: no suspended scenario in %s", ErrHarness, dir)
	}
	return &st, nil
}

// writeResume writes resume.json when scenarios are suspended, and removes
// a stale one when none is.
func (r *runner) writeResume() error {
	path := filepath.Join(r.opts.Out, ResumeFile)
	r.mu.Lock()
	st := ResumeState{Target: r.opts.TargetFile, Lab: r.opts.LabDir, Scenarios: append([]Suspended(nil), r.suspended...)}
	r.mu.Unlock()
	if len(st.Scenarios) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: %v", ErrHarness, err)
		}
		return nil
	}
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrHarness, err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("%w: %v", ErrHarness, err)
	}
	return nil
}

// replaying wraps the step registrar: a step function runs only when the
// scenario has no step left to replay; a replayed step returns nil at once
// (its effects were restored from resume.json).
type replaying struct{ sc stepRegistrar }

var (
	ctxType = reflect.TypeOf((*context.Context)(nil)).Elem()
	errType = reflect.TypeOf((*error)(nil)).Elem()
)

func (r replaying) Step(expr, fn interface{}) {
	v := reflect.ValueOf(fn)
	t := v.Type()
	if t.NumIn() == 0 || t.In(0) != ctxType || t.NumOut() != 1 || t.Out(0) != errType {
		panic(fmt.Sprintf("scenarios: step %v must be func(context.Context, ...) error", expr))
	}
	r.sc.Step(expr, reflect.MakeFunc(t, func(args []reflect.Value) []reflect.Value {
		if w, ok := args[0].Interface().(context.Context).Value(worldKey{}).(*World); ok && w.replay > 0 {
			w.replay--
			return []reflect.Value{reflect.Zero(errType)}
		}
		return v.Call(args)
	}).Interface())
}
