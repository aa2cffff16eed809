package lab

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pecspec/pecspec/fixtures"
)

// Clamd is the lab's ClamAV daemon with the project's test signatures, on a
// unix socket (RFC 6109 §3.1.3, §5.4).
type Clamd struct {
	Socket string
	proc   *Proc
}

const clamdConf = `Foreground yes
DatabaseDirectory %[1]s/db
LocalSocket %[1]s/clamd.sock
PidFile %[1]s/clamd.pid
LogFile %[1]s/clamd.log
StreamMaxLength 64M
MaxScanSize 128M
MaxFileSize 64M
ScanMail yes
`

// StartClamd starts clamd from a private configuration in dir and waits for
// PING → PONG on its socket.
func StartClamd(ctx context.Context, dir string, log *slog.Logger) (*Clamd, error) {
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o700); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLab, err)
	}
	if err := writeFiles(filepath.Join(dir, "db"), map[string][]byte{fixtures.ClamDBName: fixtures.ClamDB}); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "clamd.conf")
	if err := writeFiles(dir, map[string][]byte{"clamd.conf": fmt.Appendf(nil, clamdConf, dir)}); err != nil {
		return nil, err
	}
	c := &Clamd{Socket: filepath.Join(dir, "clamd.sock")}
	var err error
	c.proc, err = StartProc(ctx, "clamd", filepath.Join(dir, "clamd.out"), nil, "clamd", "-c", conf)
	if err != nil {
		return nil, err
	}
	err = waitUntil(ctx, c.proc, 30*time.Second, func() error { return ping(c.Socket) })
	if err != nil {
		c.proc.Stop(time.Second)
		return nil, err
	}
	if log != nil {
		log.Info("clamd up", "socket", c.Socket)
	}
	return c, nil
}

func ping(socket string) error {
	conn, err := net.DialTimeout("unix", socket, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := conn.Write([]byte("zPING\x00")); err != nil {
		return err
	}
	buf := make([]byte, 16)
	n, err := conn.Read(buf)
	if err != nil {
		return err
	}
	if got := strings.TrimRight(string(buf[:n]), "\x00\n"); got != "PONG" {
		return fmt.Errorf("clamd answered %q to PING", got)
	}
	return nil
}

// Stop ends clamd.
func (c *Clamd) Stop() error { return c.proc.Stop(5 * time.Second) }
