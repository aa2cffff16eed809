package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Wire transcripts (STYLE 17, the second of three streams): the SMTP and
// IMAP sessions the probe opens with a context carrying Transcripts are
// recorded line by line, "C:" what the probe sent and "S:" what the server
// answered, so that a report shows the evidence of a protocol-level check
// (a submission without AUTH refused: the 530 the server gave). Secrets
// never reach a transcript: the arguments of AUTH and LOGIN and every SASL
// response are masked. Message bodies (SMTP DATA) and IMAP literals are
// elided to their size, and a session keeps at most MaxTranscript bytes.

// MaxTranscript bounds one session's transcript.
const MaxTranscript = 16 << 10

// Transcripts collects the sessions of the probe calls made with a context
// that carries it (WithTranscripts). Safe for concurrent use.
type Transcripts struct {
	mu       sync.Mutex
	sessions []*recorder
}

// Session is one connection's transcript.
type Session struct {
	Proto   string    `json:"proto"` // "smtp" or "imap"
	Addr    string    `json:"addr"`
	Started time.Time `json:"started"`
	Text    string    `json:"text"` // "C: EHLO …\nS: 250 …\n", secrets masked
}

type transcriptKey struct{}

// WithTranscripts makes the probe calls made with ctx record their sessions
// in t.
func WithTranscripts(ctx context.Context, t *Transcripts) context.Context {
	return context.WithValue(ctx, transcriptKey{}, t)
}

// Sessions returns the sessions recorded so far, in the order they opened.
func (t *Transcripts) Sessions() []Session {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Session, 0, len(t.sessions))
	for _, r := range t.sessions {
		out = append(out, r.session())
	}
	return out
}

// newRecorder starts a session's transcript when ctx asks for one; nil
// otherwise (every recorder method accepts a nil receiver).
func newRecorder(ctx context.Context, proto, addr string) *recorder {
	t, _ := ctx.Value(transcriptKey{}).(*Transcripts)
	if t == nil {
		return nil
	}
	r := &recorder{proto: proto, addr: addr, started: time.Now()}
	t.mu.Lock()
	t.sessions = append(t.sessions, r)
	t.mu.Unlock()
	return r
}

// recorder turns one session's bytes into transcript lines. Bytes come
// either with their direction (client, server: a wrapped connection) or
// without (Write: go-smtp's and go-imap's DebugWriter, both directions in
// one stream, above TLS); then the direction is read from the line itself,
// which SMTP's lock-step replies and IMAP's tagged responses make certain.
type recorder struct {
	mu      sync.Mutex
	proto   string
	addr    string
	started time.Time
	out     strings.Builder
	dropped int
	partial []byte // an incomplete line
	dir     string // of partial, "" when inferred
	// SMTP: inside DATA (octets counted until the lone "."), and a SASL
	// response expected (after a 334).
	inData    bool
	dataBytes int
	sasl      bool
	// IMAP: inside LOGIN (its literals are secret), octets of a literal
	// still to come, the direction of the line that announced it, and
	// whether it is a secret.
	login         bool
	litWait       int // a client's synchronizing literal waits for "+"
	literal       int
	literalDir    string
	literalSecret bool
	literalSize   int
	cont          string // direction of the line a literal interrupted
}

// Write records bytes whose direction is inferred line by line.
func (r *recorder) Write(p []byte) (int, error) {
	r.feed("", p)
	return len(p), nil
}

func (r *recorder) client(p []byte) { r.feed("C", p) }
func (r *recorder) server(p []byte) { r.feed("S", p) }

func (r *recorder) feed(dir string, p []byte) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(p) > 0 {
		if r.literal > 0 {
			k := min(r.literal, len(p))
			r.literal -= k
			p = p[k:]
			if r.literal == 0 {
				text := "[" + strconv.Itoa(r.literalSize) + " octets]"
				if r.literalSecret {
					text = "****"
				}
				r.emit(r.literalDir, "  "+text)
				r.cont = r.literalDir // the rest of the line that announced it
			}
			continue
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			r.partial, r.dir = append(r.partial, p...), dir
			return
		}
		line := string(append(r.partial, p[:i+1]...))
		r.partial, p = r.partial[:0], p[i+1:]
		r.line(dir, strings.TrimRight(line, "\r\n"))
	}
}

// line records one complete line.
func (r *recorder) line(dir, l string) {
	if dir == "" {
		dir = r.cont
	}
	r.cont = ""
	if r.proto == "imap" {
		r.imapLine(dir, l)
		return
	}
	r.smtpLine(dir, l)
}

var smtpReply = regexp.MustCompile(`^[2-5][0-9][0-9]([ -]|$)`)

func (r *recorder) smtpLine(dir, l string) {
	if r.inData && dir != "S" {
		if l == "." {
			r.emit("C", "["+strconv.Itoa(r.dataBytes)+" octets of message]")
			r.emit("C", ".")
			r.inData, r.dataBytes = false, 0
			return
		}
		r.dataBytes += len(l) + 2
		return
	}
	if dir == "S" || (dir == "" && smtpReply.MatchString(l)) {
		r.emit("S", l)
		final := len(l) == 3 || l[3] == ' '
		r.inData = r.inData || (final && strings.HasPrefix(l, "354"))
		r.sasl = final && strings.HasPrefix(l, "334")
		return
	}
	switch {
	case r.sasl:
		l, r.sasl = "****", false
	case len(l) > 5 && strings.EqualFold(l[:5], "AUTH "):
		mech, rest, _ := strings.Cut(l[5:], " ")
		if l = "AUTH " + mech; rest != "" {
			l += " ****"
		}
	}
	r.emit("C", l)
}

var imapLiteral = regexp.MustCompile(`\{([0-9]+)\+?\}$`)

func (r *recorder) imapLine(dir, l string) {
	if dir == "" {
		dir = imapDirection(l)
	}
	raw := l
	switch {
	case dir == "S":
		if !strings.HasPrefix(l, "+") {
			r.login = false
		}
		if !strings.HasPrefix(l, "+") && !strings.HasPrefix(l, "* ") {
			r.sasl = false // a tagged completion ends AUTHENTICATE
		}
	case r.sasl:
		l = "****" // a SASL response of AUTHENTICATE
	default:
		tag, rest, _ := strings.Cut(l, " ")
		cmd, args, _ := strings.Cut(rest, " ")
		switch strings.ToUpper(cmd) {
		case "LOGIN":
			user, _, _ := strings.Cut(args, " ")
			if strings.HasPrefix(user, "{") {
				user = "****"
			}
			l, r.login = tag+" "+cmd+" "+user+" ****", true
		case "AUTHENTICATE":
			mech, more, _ := strings.Cut(args, " ")
			if l, r.sasl = tag+" "+cmd+" "+mech, true; more != "" {
				l += " ****"
			}
		}
	}
	r.emit(dir, l)
	switch {
	case dir == "S" && strings.HasPrefix(l, "+") && r.litWait > 0:
		// the go-ahead for the client's synchronizing literal (RFC 3501 §7.5)
		r.startLiteral(r.litWait, "C")
	case dir == "S" && !strings.HasPrefix(l, "* "):
		r.litWait = 0 // refused: the literal will not come
	}
	if m := imapLiteral.FindStringSubmatch(raw); m != nil {
		n, err := strconv.Atoi(m[1])
		switch {
		case err != nil || n == 0:
		case dir == "C" && !strings.HasSuffix(raw, "+}"):
			r.litWait = n
		default:
			r.startLiteral(n, dir)
		}
	}
}

// startLiteral counts the next n octets as a literal sent by dir.
func (r *recorder) startLiteral(n int, dir string) {
	r.literal, r.literalSize, r.literalDir, r.literalSecret, r.litWait = n, n, dir, r.login, 0
}

// imapDirection: server lines are untagged (*), continuation requests (+)
// or tagged completions (OK, NO, BAD, BYE, PREAUTH); a client line is a
// tag and a command, or DONE.
func imapDirection(l string) string {
	if strings.HasPrefix(l, "* ") || strings.HasPrefix(l, "+ ") || l == "+" {
		return "S"
	}
	_, rest, _ := strings.Cut(l, " ")
	word, _, _ := strings.Cut(rest, " ")
	switch strings.ToUpper(word) {
	case "OK", "NO", "BAD", "BYE", "PREAUTH":
		return "S"
	}
	return "C"
}

// emit appends a line while the session is under MaxTranscript.
func (r *recorder) emit(dir, l string) {
	line := dir + ": " + l + "\n"
	if dir == "--" {
		line = "-- " + l + "\n"
	}
	if r.out.Len()+len(line) > MaxTranscript {
		r.dropped += len(line)
		return
	}
	r.out.WriteString(line)
}

func (r *recorder) session() Session {
	r.mu.Lock()
	defer r.mu.Unlock()
	text := r.out.String()
	if r.dropped > 0 {
		text += "[" + strconv.Itoa(r.dropped) + " more octets of transcript not kept]\n"
	}
	return Session{Proto: r.proto, Addr: r.addr, Started: r.started, Text: text}
}

// note records an event of the session that is not a protocol line
// (connected with TLS, handshake failed, closed).
func (r *recorder) note(text string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.emit("--", text)
}

// tlsVersion names the connection's TLS version and cipher suite.
func tlsVersion(c *tls.Conn) string {
	st := c.ConnectionState()
	return tls.VersionName(st.Version) + ", " + tls.CipherSuiteName(st.CipherSuite)
}

// recordingConn records a plaintext connection's bytes with their
// direction until stop (the start of TLS, whose bytes are not text).
type recordingConn struct {
	net.Conn
	r  *recorder
	mu sync.Mutex
	on bool
}

// wrap records conn's traffic into r; with a nil r it returns conn.
func (r *recorder) wrap(conn net.Conn) net.Conn {
	if r == nil {
		return conn
	}
	return &recordingConn{Conn: conn, r: r, on: true}
}

func (c *recordingConn) recording() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.on
}

// unwrap ends the recording of a connection wrap returned (TLS starts
// on it: its bytes are no text).
func (r *recorder) unwrap(conn net.Conn) {
	if c, ok := conn.(*recordingConn); ok {
		c.mu.Lock()
		c.on = false
		c.mu.Unlock()
	}
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.recording() {
		c.r.server(p[:n])
	}
	return n, err
}

func (c *recordingConn) Write(p []byte) (int, error) {
	if c.recording() {
		c.r.client(p)
	}
	return c.Conn.Write(p)
}
