package mailbox

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// Authenticator checks a user's password (username = full address).
type Authenticator interface {
	Authenticate(username, password string) bool
}

// Server is the IMAPS server of the store (RFC 9051, with RFC 3501 clients
// served too). It serves each user's Maildir from disk: the Maildir is the
// only store of record, and the server keeps per address a small index (UID,
// file name, flags, size, internal date of each message, and the structure
// FETCH learnt of it) loaded at the user's first login and kept in step with
// every delivery through Store.watch, so a client idling on INBOX sees a
// delivery at once. UIDs and UIDVALIDITY are kept across restarts in a uid
// list in the Maildir (uidlist.go). Message bytes are streamed from the
// files per command and never kept.
type Server struct {
	store *Store
	auth  Authenticator
	tls   *tls.Config
	log   *slog.Logger
	srv   *imapserver.Server
	stop  func() // ends Store.watch

	mu    sync.Mutex
	boxes map[string]*box
}

// NewServer returns the IMAPS server for store.
func NewServer(store *Store, auth Authenticator, tlsConfig *tls.Config, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{store: store, auth: auth, tls: tlsConfig, log: log, boxes: map[string]*box{}}
	s.stop = store.watch(s.delivered)
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

// box returns the (maybe not yet loaded) index of address.
func (s *Server) box(address string) *box {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.boxes[address]
	if !ok {
		b = newBox(s.store, address, s.log)
		s.boxes[address] = b
	}
	return b
}

// delivered passes a new message to its address's index, if any: a short
// append under a lock no IMAP work holds (box.delivered), since the
// delivery's SMTP answer waits on it.
func (s *Server) delivered(address, name string) {
	s.mu.Lock()
	b := s.boxes[address]
	s.mu.Unlock()
	if b != nil {
		b.delivered(name)
	}
}

// Serve accepts IMAPS connections on l (implicit TLS, RFC 8314 §3.3).
func (s *Server) Serve(l net.Listener) error {
	return s.srv.Serve(tls.NewListener(l, s.tls))
}

// Close stops the server and its watching of the store, and releases the
// uid lists for the next Server on the store.
func (s *Server) Close() error {
	s.stop()
	err := s.srv.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.boxes {
		b.close()
	}
	return err
}

type slogLogger struct{ l *slog.Logger }

func (l slogLogger) Printf(format string, v ...any) {
	l.l.Warn(fmt.Sprintf(format, v...), "role", "mailbox")
}
