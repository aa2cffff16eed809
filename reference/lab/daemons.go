package lab

import (
	"context"
	"fmt"
)

// The daemons the instances depend on, by name, for the fault injection of
// the chaos run (issue 15, internal/chaos): each can be killed as a crash
// would end it and started again as a supervisor would, through its
// component (component.go): the same configuration, address and data.
const (
	DaemonSlapd = "slapd" // the index (RFC 6109 §4.5); alpha reads it
	DaemonClamd = "clamd" // the antivirus (RFC 6109 §5.4); both instances scan with it
)

// daemon is the component of slapd or clamd.
func (l *Lab) daemon(name string) (*component, error) {
	if name == DaemonSlapd || name == DaemonClamd {
		for _, c := range l.components() {
			if c.name == name {
				return c, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: no daemon %q (slapd or clamd)", ErrLab, name)
}

// DaemonPid is the process ID of daemon name (slapd or clamd), 0 when the
// lab has none.
func (l *Lab) DaemonPid(name string) int {
	c, err := l.daemon(name)
	if err != nil {
		return 0
	}
	return (*c.proc).Pid()
}

// KillDaemon ends daemon name at once with SIGKILL and waits until it is gone.
func (l *Lab) KillDaemon(name string) error {
	c, err := l.daemon(name)
	if err != nil {
		return err
	}
	(*c.proc).Kill()
	return nil
}

// RestartDaemon starts a killed or stopped daemon again on the same
// configuration, address and data, and waits until it answers (a bind for
// slapd, PING for clamd).
func (l *Lab) RestartDaemon(ctx context.Context, name string) error {
	c, err := l.daemon(name)
	if err != nil {
		return err
	}
	if c.running() {
		return fmt.Errorf("%w: %s is still running", ErrLab, name)
	}
	_, err = c.start(ctx)
	return err
}
