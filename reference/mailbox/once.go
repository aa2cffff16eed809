package mailbox

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// DeliverOnce is Deliver for an output of a replayable reception (package
// once): the Maildir name carries key, and a key already delivered to address
// — by a run a crash interrupted — is not delivered again (dup true). The key
// survives a reader renaming the message (Dovecot moving it to cur/ with
// flags): it is read from the name's base.
func (s *Store) DeliverOnce(address, key string, msg io.Reader) (name string, dup bool, err error) {
	if strings.ContainsAny(key, "./:\\") || key == "" {
		return "", false, fmt.Errorf("mailbox: bad delivery key %q", key)
	}
	if err := s.loadKeys(); err != nil {
		return "", false, err
	}
	id := norm(address) + "/" + key
	s.mu.Lock()
	done := s.keys[id]
	s.mu.Unlock()
	if done {
		return "", true, nil
	}
	name, err = s.deliver(address, s.uniqueName("k"+key), msg)
	if err != nil {
		return "", false, err
	}
	s.mu.Lock()
	s.keys[id] = true
	s.mu.Unlock()
	return name, false, nil
}

// loadKeys reads, once, the keys of the keyed deliveries already on disk.
func (s *Store) loadKeys() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys != nil {
		return nil
	}
	keys := map[string]bool{}
	for a := range s.box {
		for _, sub := range []string{"new", "cur"} {
			entries, err := os.ReadDir(filepath.Join(s.dir(a), sub))
			if err != nil {
				return fmt.Errorf("mailbox: %w", err)
			}
			for _, e := range entries {
				if k := keyOf(e.Name()); k != "" {
					keys[a+"/"+k] = true
				}
			}
		}
	}
	s.keys = keys
	return nil
}

// keyOf is the delivery key in a Maildir name made by DeliverOnce, "" if none.
func keyOf(name string) string {
	_, rest, ok := strings.Cut(base(name), "_k")
	if !ok {
		return ""
	}
	key, _, _ := strings.Cut(rest, ".")
	return key
}
