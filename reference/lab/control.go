package lab

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ControlSocket is the running lab's control socket in its directory: a
// unix socket, mode 0600, served by `pecspec lab up` for the lab's whole
// life. `pecspec lab status|stop|start|restart` talk to it.
//
// The protocol is one JSON object per line, one request and one response
// per connection. The request is at most MaxRequest bytes and must arrive
// within requestWait:
//
//	{"action":"status"}            every component: name, kind, pid, state
//	{"action":"status","name":"beta"}
//	{"action":"stop","name":"beta"}     SIGTERM, SIGKILL after 5 s
//	{"action":"start","name":"beta"}    same configuration, ports and data
//	{"action":"restart","name":"slapd"} stop, then start
//
// The response is {"ok":true,"message":…,"components":[…],"took_ms":…} or
// {"ok":false,"error":…}; an unknown name's error lists the names. Actions
// on one component run one at a time; each is bounded (a start by its
// component's readiness bound, the whole request by actionLimit).
const ControlSocket = "control.sock"

// Control actions.
const (
	ActionStatus  = "status"
	ActionStop    = "stop"
	ActionStart   = "start"
	ActionRestart = "restart"
)

// Request is one control request.
type Request struct {
	Action string `json:"action"`
	Name   string `json:"name,omitempty"`
}

// Response is the answer to a Request.
type Response struct {
	OK         bool              `json:"ok"`
	Error      string            `json:"error,omitempty"`
	Message    string            `json:"message,omitempty"`
	Components []ComponentStatus `json:"components,omitempty"`
	TookMS     int64             `json:"took_ms"`
}

const (
	MaxRequest  = 1024             // bytes of a request line
	maxClients  = 8                // connections served at once
	requestWait = 5 * time.Second  // to read a request, and to write its response
	actionLimit = 90 * time.Second // a whole action (a restart: stop and start)
)

// Control serves a lab's control socket (Serve).
type Control struct {
	ln     net.Listener
	path   string
	comps  []*component
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	slots  chan struct{}
	mu     sync.Mutex
	conns  map[net.Conn]bool
}

// Serve listens on DIR/control.sock and serves it until Close, which must
// come before Down. Actions in progress end (a start is abandoned) when ctx
// ends.
func (l *Lab) Serve(ctx context.Context) (*Control, error) {
	c, err := serveControl(ctx, filepath.Join(l.Dir, ControlSocket), l.components())
	if err == nil {
		l.control = c.path
	}
	return c, err
}

func serveControl(ctx context.Context, path string, comps []*component) (*Control, error) {
	_ = os.Remove(path) // a stale socket: the directory's lock says no lab serves it
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("%w: control socket: %v", ErrLab, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("%w: control socket: %v", ErrLab, err)
	}
	c := &Control{ln: ln, path: path, comps: comps, slots: make(chan struct{}, maxClients), conns: map[net.Conn]bool{}}
	c.ctx, c.cancel = context.WithCancel(ctx)
	c.wg.Add(1)
	go c.accept()
	return c, nil
}

// Path is the socket's path.
func (c *Control) Path() string { return c.path }

// Close stops serving: no new request is read, the actions in progress
// are cancelled and awaited, the socket is removed.
func (c *Control) Close() error {
	c.cancel()
	err := c.ln.Close()
	c.mu.Lock()
	for conn := range c.conns {
		conn.SetReadDeadline(time.Now()) // one still sending its request
	}
	c.mu.Unlock()
	c.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

func (c *Control) accept() {
	defer c.wg.Done()
	for {
		conn, err := c.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		select {
		case c.slots <- struct{}{}:
		default:
			reply(conn, Response{Error: fmt.Sprintf("busy: %d requests in progress; try again", maxClients)})
			conn.Close()
			continue
		}
		c.mu.Lock()
		c.conns[conn] = true
		c.mu.Unlock()
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.serve(conn)
			c.mu.Lock()
			delete(c.conns, conn)
			c.mu.Unlock()
			conn.Close()
			<-c.slots
		}()
	}
}

// serve reads one request, bounded in size and time, and answers it.
func (c *Control) serve(conn net.Conn) {
	conn.SetReadDeadline(time.Now().Add(requestWait))
	line, err := bufio.NewReaderSize(conn, MaxRequest+1).ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		reply(conn, Response{Error: fmt.Sprintf("request over %d bytes", MaxRequest)})
		return
	case err != nil:
		reply(conn, Response{Error: fmt.Sprintf("no request line (one JSON object, then a newline, within %v): %v", requestWait, err)})
		return
	}
	var req Request
	dec := json.NewDecoder(strings.NewReader(string(line)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		reply(conn, Response{Error: fmt.Sprintf("bad request: %v", err)})
		return
	}
	start := time.Now()
	resp := c.do(req)
	resp.TookMS = time.Since(start).Milliseconds()
	reply(conn, resp)
}

func reply(conn net.Conn, resp Response) {
	conn.SetWriteDeadline(time.Now().Add(requestWait))
	data, _ := json.Marshal(resp)
	conn.Write(append(data, '\n'))
}
