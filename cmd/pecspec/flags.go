package main

import (
	"flag"
	"io"
	"os"
	"syscall"
	"unsafe"
)

// newFlagSet is a flag set that prints nothing: a bad flag is reported on
// one line by the command (usageError), the usage by `-h` (dispatch).
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args with fs, the flags before, between or after the
// positional arguments (`log export DIR --from T`), as the go tool and
// h2spec accept them; after "--" everything is an argument. It returns the
// positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// isTerminal reports whether f is a terminal (TCGETS succeeds): the
// progress line is rewritten in place there, printed line by line elsewhere.
func isTerminal(f *os.File) bool {
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return errno == 0
}
