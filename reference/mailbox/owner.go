package mailbox

import (
	"os"
)

// owner is the user and group the Maildirs belong to: Dovecot's mail
// processes never run as root, so a provider running as root hands its
// Maildirs to the mail user Dovecot uses (lab: MailUID).
type owner struct{ uid, gid int }

// SetOwner makes uid:gid the owner of the Maildirs added from now on and of
// every message delivered (the mail user Dovecot reads them as). Call it
// before AddMailbox.
func (s *Store) SetOwner(uid, gid int) {
	s.mu.Lock()
	s.owner = &owner{uid, gid}
	s.mu.Unlock()
	_ = os.Chown(s.root, uid, gid)
}

func (o *owner) chown(path string) error {
	if o == nil {
		return nil
	}
	return os.Lchown(path, o.uid, o.gid)
}

func (o *owner) fchown(f *os.File) error {
	if o == nil {
		return nil
	}
	return f.Chown(o.uid, o.gid)
}
