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
	// scratch is clamd's TemporaryDirectory (scratchDir), removed at Stop.
	scratch string
}

// clamdConf is clamd's private configuration. Its limits are set for PEC
// (issue 15): a message the reference takes is at most 64 MiB, so a stream
// of that size plus an envelope and trace fields fits; recursion covers
// deeper nesting than the reference's own MIME limit
// (antivirus.MaxDepthReception, 40), so what it lets through is scanned to
// the bottom; and whatever goes over a limit — recursion, file or scan size —
// is reported as Heuristics.Limits.Exceeded.* (AlertExceedsMax),
// which the reference refuses as a virus, instead of passing unscanned.
// Encrypted archives and documents, which cannot be scanned either, are
// reported too (Heuristics.Encrypted.*), as real PEC providers do.
const clamdConf = `Foreground yes
DatabaseDirectory %[1]s/db
LocalSocket %[1]s/clamd.sock
PidFile %[1]s/clamd.pid
LogFile %[1]s/clamd.log
StreamMaxLength 80M
MaxScanSize 512M
MaxFileSize 80M
MaxRecursion 64
MaxFiles 20000
MaxEmbeddedPE 80M
MaxHTMLNormalize 80M
MaxHTMLNoTags 32M
MaxScriptNormalize 40M
MaxZipTypeRcg 80M
MaxScanTime 60000
AlertExceedsMax yes
AlertEncrypted yes
HeuristicAlerts yes
ScanMail yes
ScanArchive yes
TemporaryDirectory %[2]s
`

// scratchDir makes the directory clamd unpacks each scanned stream into: a
// fresh directory in /dev/shm when that is a writable tmpfs, else dir/tmp.
// clamd creates and deletes a directory and several files per scan (the
// INSTREAM data, then every MIME part); on ext4 without a journal, as on the
// project machine, each new inode then skips every inode freed in the last
// minute (recently_deleted), which made clamd's file churn the largest cost of
// a scan and slowed the providers' own writes on the same file system. The
// scratch holds nothing that must survive a crash.
func scratchDir(dir string) (string, error) {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "pecspec-clamd-"); err == nil {
			return d, nil
		}
	}
	d := filepath.Join(dir, "tmp")
	return d, os.MkdirAll(d, 0o700)
}

// StartClamd starts clamd from a private configuration in dir and waits for
// PING → PONG on its socket.
func StartClamd(ctx context.Context, dir string, log *slog.Logger) (*Clamd, error) {
	if err := os.MkdirAll(filepath.Join(dir, "db"), 0o700); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLab, err)
	}
	if err := writeFiles(filepath.Join(dir, "db"), map[string][]byte{fixtures.ClamDBName: fixtures.ClamDB}); err != nil {
		return nil, err
	}
	scratch, err := scratchDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: clamd scratch: %v", ErrLab, err)
	}
	c := &Clamd{Socket: filepath.Join(dir, "clamd.sock"), scratch: scratch}
	conf := filepath.Join(dir, "clamd.conf")
	if err := writeFiles(dir, map[string][]byte{"clamd.conf": fmt.Appendf(nil, clamdConf, dir, scratch)}); err != nil {
		c.removeScratch()
		return nil, err
	}
	c.proc, err = StartProc(ctx, "clamd", filepath.Join(dir, "clamd.out"), nil, "clamd", "-c", conf)
	if err != nil {
		c.removeScratch()
		return nil, err
	}
	if err := waitUntil(ctx, c.proc, clamdReady, c.check); err != nil {
		c.Stop()
		return nil, err
	}
	if log != nil {
		log.Info("clamd up", "socket", c.Socket)
	}
	return c, nil
}

// clamdReady bounds clamd's start (it loads its signatures first).
const clamdReady = 30 * time.Second

// check is PING → PONG on clamd's socket: clamd is ready.
func (c *Clamd) check() error { return ping(c.Socket) }

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

// Stop ends clamd and removes its scratch directory.
func (c *Clamd) Stop() error {
	err := c.proc.Stop(5 * time.Second)
	c.removeScratch()
	return err
}

// removeScratch removes a scratch directory in /dev/shm (one under the lab
// directory goes with it).
func (c *Clamd) removeScratch() {
	if strings.HasPrefix(c.scratch, "/dev/shm/") {
		os.RemoveAll(c.scratch)
	}
}
