package mailbox

import (
	"sort"
	"strings"

	"github.com/emersion/go-imap/v2"
)

// sysFlags are the IMAP system flags a Maildir keeps in its info letters
// (RFC 9051 §2.3.2; cr.yp.to/proto/maildir.html).
type sysFlags uint8

const (
	flagDraft sysFlags = 1 << iota
	flagFlagged
	flagAnswered
	flagSeen
	flagDeleted
)

// infoLetters maps each system flag to its Maildir info letter, in the ASCII
// order the letters are written in.
var infoLetters = []struct {
	letter byte
	bit    sysFlags
	flag   imap.Flag
}{
	{'D', flagDraft, imap.FlagDraft},
	{'F', flagFlagged, imap.FlagFlagged},
	{'R', flagAnswered, imap.FlagAnswered},
	{'S', flagSeen, imap.FlagSeen},
	{'T', flagDeleted, imap.FlagDeleted},
}

// systemFlags are the FLAGS and PERMANENTFLAGS of INBOX (RFC 9051 §7.3.5).
var systemFlags = []imap.Flag{imap.FlagSeen, imap.FlagAnswered, imap.FlagFlagged, imap.FlagDeleted, imap.FlagDraft}

// parseInfo reads the system flags from Maildir info letters.
func parseInfo(letters string) sysFlags {
	var f sysFlags
	for _, l := range infoLetters {
		if strings.IndexByte(letters, l.letter) >= 0 {
			f |= l.bit
		}
	}
	return f
}

// infoString writes f as info letters, keeping the letters of old that are
// no IMAP flag (P "passed", lowercase letters of other programs), in ASCII order.
func infoString(f sysFlags, old string) string {
	var b []byte
	for i := 0; i < len(old); i++ {
		if !strings.ContainsRune("DFRST", rune(old[i])) && strings.IndexByte(string(b), old[i]) < 0 {
			b = append(b, old[i])
		}
	}
	for _, l := range infoLetters {
		if f&l.bit != 0 {
			b = append(b, l.letter)
		}
	}
	sort.Slice(b, func(i, j int) bool { return b[i] < b[j] })
	return string(b)
}

// systemBit is the bit of a system flag, 0 for a keyword or \Recent.
func systemBit(f imap.Flag) sysFlags {
	for _, l := range infoLetters {
		if strings.EqualFold(string(f), string(l.flag)) {
			return l.bit
		}
	}
	return 0
}

// hasFlag reports whether m carries f (system flag or keyword).
func (m *message) hasFlag(f imap.Flag) bool {
	if bit := systemBit(f); bit != 0 {
		return m.flags&bit != 0
	}
	return containsFlag(m.keywords, f)
}

func containsFlag(l []imap.Flag, f imap.Flag) bool {
	for _, g := range l {
		if strings.EqualFold(string(g), string(f)) {
			return true
		}
	}
	return false
}

// flagList is m's flags as FETCH FLAGS writes them.
func (m *message) flagList() []imap.Flag {
	out := make([]imap.Flag, 0, 5+len(m.keywords))
	for _, l := range infoLetters {
		if m.flags&l.bit != 0 {
			out = append(out, l.flag)
		}
	}
	return append(out, m.keywords...)
}

// apply returns m's flags after STORE op with flags (RFC 9051 §6.4.6).
func (m *message) apply(op imap.StoreFlagsOp, flags []imap.Flag) (sysFlags, []imap.Flag) {
	var bits sysFlags
	var kws []imap.Flag
	for _, f := range flags {
		switch bit := systemBit(f); {
		case bit != 0:
			bits |= bit
		case !strings.HasPrefix(string(f), `\`) && !containsFlag(kws, f):
			kws = append(kws, f) // \Recent and unknown system flags are ignored
		}
	}
	switch op {
	case imap.StoreFlagsAdd:
		out := append([]imap.Flag(nil), m.keywords...)
		for _, k := range kws {
			if !containsFlag(out, k) {
				out = append(out, k)
			}
		}
		return m.flags | bits, out
	case imap.StoreFlagsDel:
		var out []imap.Flag
		for _, k := range m.keywords {
			if !containsFlag(kws, k) {
				out = append(out, k)
			}
		}
		return m.flags &^ bits, out
	default:
		return bits, kws
	}
}

// firstErrOf keeps the first error of a batch.
func firstErrOf(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

func sameFlags(a, b []imap.Flag) bool {
	if len(a) != len(b) {
		return false
	}
	for _, f := range a {
		if !containsFlag(b, f) {
			return false
		}
	}
	return true
}
