package netguard

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"
)

// DefaultHandshake is how long an implicit-TLS client has to complete its
// handshake: machine work, done in milliseconds even over a slow link.
const DefaultHandshake = 10 * time.Second

// tlsListener hands out *tls.Conn whose handshake is complete (TLS).
type tlsListener struct {
	net.Listener
	cfg     *tls.Config
	timeout time.Duration
	log     *slog.Logger
	name    string
	ready   chan net.Conn
	errc    chan error    // accept errors the server retries after a pause
	stopped chan struct{} // closed when the wrapped listener failed for good
	err     error         // why, set before stopped is closed
	done    chan struct{}
	close   sync.Once
}

// TLS wraps l (a Limit, so that handshakes in progress hold their slots) for
// implicit TLS: every accepted connection handshakes in its own goroutine
// within timeout (0: DefaultHandshake), and Accept returns only those that
// completed it, as *tls.Conn, so that a server testing for one (go-smtp)
// knows the session is encrypted. One that is too slow or fails is closed;
// a timeout is logged as a warning under name.
func TLS(l net.Listener, cfg *tls.Config, timeout time.Duration, name string, log *slog.Logger) net.Listener {
	if timeout <= 0 {
		timeout = DefaultHandshake
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &tlsListener{Listener: l, cfg: cfg, timeout: timeout, log: log, name: name,
		ready: make(chan net.Conn), errc: make(chan error), stopped: make(chan struct{}), done: make(chan struct{})}
	go t.loop()
	return t
}

func (t *tlsListener) loop() {
	for {
		c, err := t.Listener.Accept()
		if err != nil && isTemporary(err) {
			select {
			case t.errc <- err:
				continue
			case <-t.done:
				return
			}
		}
		if err != nil {
			t.err = err
			close(t.stopped)
			return
		}
		go t.handshake(c)
	}
}

// isTemporary is the accept errors a server retries after a pause (too many
// open files and the like: net.Error's deprecated Temporary, as go-smtp and
// net/http still test it).
func isTemporary(err error) bool {
	te, ok := err.(interface{ Temporary() bool })
	return ok && te.Temporary()
}

func (t *tlsListener) handshake(c net.Conn) {
	tc := tls.Server(c, t.cfg)
	_ = c.SetDeadline(time.Now().Add(t.timeout))
	if err := tc.Handshake(); err != nil {
		_ = c.Close()
		var ne net.Error
		if errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
			t.log.Warn("tls handshake timed out", "listener", t.name, "remote", Peer(c.RemoteAddr()).String(),
				"after", t.timeout)
		} else {
			t.log.Debug("tls handshake failed", "listener", t.name, "remote", Peer(c.RemoteAddr()).String(), "err", err)
		}
		return
	}
	_ = c.SetDeadline(time.Time{})
	select {
	case t.ready <- tc:
	case <-t.done:
		_ = tc.Close()
	}
}

// Accept returns the next connection that completed its handshake.
func (t *tlsListener) Accept() (net.Conn, error) {
	select {
	case c := <-t.ready:
		return c, nil
	case err := <-t.errc:
		return nil, err
	case <-t.stopped:
		return nil, t.err
	case <-t.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting; handshakes in progress end within their deadline.
func (t *tlsListener) Close() error {
	var err error
	t.close.Do(func() {
		close(t.done)
		err = t.Listener.Close()
	})
	return err
}
