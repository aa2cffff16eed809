package mailbox

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// Authenticator checks a user's password (username = full address).
type Authenticator interface {
	Authenticate(username, password string) bool
}

// Server is the IMAPS server of the store. It serves each Maildir through
// go-imap's session machinery (FETCH, SEARCH, STORE, IDLE), loaded from the
// Maildir at start and kept in step with every Deliver, so a client idling on
// INBOX sees a delivery at once. The Maildir stays the durable copy.
type Server struct {
	store *Store
	auth  Authenticator
	tls   *tls.Config
	log   *slog.Logger
	srv   *imapserver.Server

	mu    sync.Mutex
	users map[string]*imapmemserver.User
}

// NewServer returns the IMAPS server for store.
func NewServer(store *Store, auth Authenticator, tlsConfig *tls.Config, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{store: store, auth: auth, tls: tlsConfig, log: log, users: map[string]*imapmemserver.User{}}
	store.mu.Lock()
	store.onDeliver = append(store.onDeliver, s.delivered)
	store.mu.Unlock()
	for _, a := range store.Addresses() {
		if err := s.load(a); err != nil {
			log.Error("load mailbox", "role", "mailbox", "rcpt", a, "err", err)
		}
	}
	caps := imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}, imap.CapIdle: {}}
	s.srv = imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &session{s: s}, nil, nil
		},
		Caps:   caps,
		Logger: slogLogger{log},
	})
	return s
}

// user returns (creating) the in-session view of address.
func (s *Server) user(address string) *imapmemserver.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[address]
	if !ok {
		u = imapmemserver.NewUser(address, "")
		if err := u.Create("INBOX", nil); err != nil {
			s.log.Error("create INBOX", "role", "mailbox", "rcpt", address, "err", err)
		}
		s.users[address] = u
	}
	return u
}

// load reads a Maildir into its view, in delivery order (stable UIDs across restarts).
func (s *Server) load(address string) error {
	names, err := s.store.List(address)
	if err != nil {
		return err
	}
	u := s.user(address)
	for _, n := range names {
		data, err := s.store.Read(address, n)
		if err != nil {
			return err
		}
		opts := &imap.AppendOptions{Time: time.Now()}
		if st, err := os.Stat(s.store.dir(address) + "/" + n); err == nil {
			opts.Time = st.ModTime()
		}
		if strings.HasPrefix(n, "cur/") && strings.Contains(n, ":2,") && strings.Contains(n[strings.Index(n, ":2,"):], "S") {
			opts.Flags = []imap.Flag{imap.FlagSeen}
		}
		if _, err := u.Append("INBOX", literal{bytes.NewReader(data), int64(len(data))}, opts); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) delivered(address, _ string, data []byte) {
	opts := &imap.AppendOptions{Time: time.Now()}
	if _, err := s.user(address).Append("INBOX", literal{bytes.NewReader(data), int64(len(data))}, opts); err != nil {
		s.log.Error("mirror delivery", "role", "mailbox", "rcpt", address, "err", err)
	}
}

// Serve accepts IMAPS connections on l (implicit TLS).
func (s *Server) Serve(l net.Listener) error {
	return s.srv.Serve(tls.NewListener(l, s.tls))
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

type literal struct {
	*bytes.Reader
	n int64
}

func (l literal) Size() int64 { return l.n }

// session authenticates against the Authenticator, then serves the user's view.
type session struct {
	s *Server
	*imapmemserver.UserSession
}

var _ imapserver.Session = (*session)(nil)

func (se *session) Login(username, password string) error {
	address := norm(username)
	if !se.s.store.Exists(address) || !se.s.auth.Authenticate(address, password) {
		return imapserver.ErrAuthFailed
	}
	se.UserSession = imapmemserver.NewUserSession(se.s.user(address))
	return nil
}

func (se *session) Close() error {
	if se.UserSession == nil {
		return nil
	}
	return se.UserSession.Close()
}

// Idle flushes updates queued since the last command before idling: go-imap's
// tracker only wakes an idle session for updates queued after IDLE began, so a
// delivery that lands between a client's FETCH and its IDLE would go unseen.
func (se *session) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	if err := se.UserSession.Poll(w, true); err != nil {
		return err
	}
	return se.UserSession.Idle(w, stop)
}

func (se *session) Create(string, *imap.CreateOptions) error {
	return &imap.Error{Type: imap.StatusResponseTypeNo, Text: "only INBOX is available"}
}

type slogLogger struct{ l *slog.Logger }

func (l slogLogger) Printf(format string, v ...any) {
	l.l.Warn(fmt.Sprintf(format, v...), "role", "mailbox")
}
