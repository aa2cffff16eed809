package mailbox

import (
	"os"
	"path/filepath"
)

// SetQuota bounds the bytes address's mailbox may hold (0: unbounded). The
// delivery point asks Fits before it delivers an envelope and answers a full
// mailbox with an avviso di mancata consegna (RFC 6109 §3.3.3).
func (s *Store) SetQuota(address string, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.quota == nil {
		s.quota = map[string]int64{}
	}
	s.quota[norm(address)] = bytes
}

// Fits reports whether a message of size bytes fits in address's quota.
func (s *Store) Fits(address string, size int) bool {
	s.mu.Lock()
	q := s.quota[norm(address)]
	s.mu.Unlock()
	return q <= 0 || s.usage(address)+int64(size) <= q
}

// usage is the bytes stored in address's Maildir (new and cur).
func (s *Store) usage(address string) int64 {
	var n int64
	for _, sub := range []string{"new", "cur"} {
		entries, _ := os.ReadDir(filepath.Join(s.dir(address), sub))
		for _, e := range entries {
			if !isMessageEntry(e) {
				continue
			}
			if info, err := e.Info(); err == nil {
				n += info.Size()
			}
		}
	}
	return n
}
