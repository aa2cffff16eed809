package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockFile is the lab directory's lock: the running lab holds an exclusive
// flock(2) on it for its whole life and writes its process ID in it. The
// kernel drops the lock when the process ends, however it ends, so a stale
// file never blocks a new lab.
const LockFile = "lab.lock"

// ErrRunning is returned by Up when another lab runs in the directory.
var ErrRunning = errors.New("lab: a lab is already running in this directory")

// lockDir creates dir and takes its lock, or fails with ErrRunning naming
// the PID that holds it. Nothing in dir is touched before the lock is held.
func lockDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLab, err)
	}
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: lock %s: %v", ErrLab, path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			pid, _ := readPID(path)
			return nil, fmt.Errorf("%w: %s (pid %d); stop it first (Ctrl-C in its terminal, or kill %d)", ErrRunning, dir, pid, pid)
		}
		return nil, fmt.Errorf("%w: lock %s: %v", ErrLab, path, err)
	}
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: lock %s: %v", ErrLab, path, err)
	}
	return f, nil
}

// Running reports whether a lab runs in dir, and its PID.
func Running(dir string) (pid int, ok bool) {
	path := filepath.Join(dir, LockFile)
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err == nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return 0, false // nobody holds it: no lab
	}
	pid, _ = readPID(path)
	return pid, true
}

func readPID(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(data)))
}
