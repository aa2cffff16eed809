package lab

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"time"
)

// ErrNoLab is Ask's error when no lab runs in the directory.
var ErrNoLab = errors.New("lab: no lab running")

// ErrControl is Ask's error when the lab refused or failed the request
// (an unknown name, a component that did not start).
var ErrControl = errors.New("lab")

// do runs one request on the components.
func (c *Control) do(req Request) Response {
	switch req.Action {
	case ActionStatus, ActionStop, ActionStart, ActionRestart:
	default:
		return Response{Error: fmt.Sprintf("unknown action %q (status, stop, start, restart)", req.Action)}
	}
	if req.Name == "" {
		if req.Action != ActionStatus {
			return Response{Error: req.Action + " needs a component name: " + c.names()}
		}
		var all []ComponentStatus
		for _, comp := range c.comps {
			all = append(all, comp.status())
		}
		return Response{OK: true, Components: all}
	}
	comp := c.lookup(req.Name)
	if comp == nil {
		return Response{Error: fmt.Sprintf("unknown component %q; the lab's components: %s", req.Name, c.names())}
	}
	if req.Action == ActionStatus {
		return Response{OK: true, Components: []ComponentStatus{comp.status()}}
	}
	ctx, cancel := context.WithTimeout(c.ctx, actionLimit)
	defer cancel()
	comp.op.Lock() // actions on one component, one at a time
	defer comp.op.Unlock()
	var msgs []string
	if req.Action != ActionStart {
		msgs = append(msgs, comp.stop())
	}
	if req.Action != ActionStop {
		msg, err := comp.start(ctx)
		if err != nil {
			return Response{Error: strings.TrimPrefix(oneLine(err), "lab: "), Components: []ComponentStatus{comp.status()}}
		}
		msgs = append(msgs, msg)
	}
	return Response{OK: true, Message: strings.Join(msgs, "; "), Components: []ComponentStatus{comp.status()}}
}

func (c *Control) lookup(name string) *component {
	for _, comp := range c.comps {
		if comp.name == name {
			return comp
		}
	}
	return nil
}

func (c *Control) names() string {
	var names []string
	for _, comp := range c.comps {
		names = append(names, comp.name)
	}
	return strings.Join(names, ", ")
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

// Ask sends req to the lab running in dir and returns its answer: ErrNoLab
// when none runs there, ErrControl (with the lab's reason) when it refused
// or failed the request. It waits for the answer as long as ctx allows.
func Ask(ctx context.Context, dir string, req Request) (*Response, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLab, err)
	}
	path := filepath.Join(dir, ControlSocket)
	d := net.Dialer{Timeout: 2 * time.Second}
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		if pid, ok := Running(dir); ok {
			return nil, fmt.Errorf("%w: the lab in %s (pid %d) does not answer on %s: %v", ErrLab, dir, pid, path, err)
		}
		return nil, fmt.Errorf("%w in %s", ErrNoLab, dir)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	data, _ := json.Marshal(req)
	if _, err := conn.Write(append(data, '\n')); err != nil {
		return nil, fmt.Errorf("%w: control socket %s: %v", ErrLab, path, err)
	}
	line, err := bufio.NewReader(io.LimitReader(conn, 1<<20)).ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("%w: control socket %s: no answer: %v", ErrLab, path, err)
	}
	var resp Response
	if err := json.Unmarshal(line, &resp); err != nil {
		return nil, fmt.Errorf("%w: control socket %s: %v", ErrLab, path, err)
	}
	if !resp.OK {
		return &resp, fmt.Errorf("%w: %s", ErrControl, resp.Error)
	}
	return &resp, nil
}
