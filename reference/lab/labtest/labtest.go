// Package labtest brings a test to a running reference lab in one line
// (STYLE 21): it builds pecref once per test process and starts the real lab
// (SoftHSM2, slapd, clamd, two pecref processes) in a temporary directory that
// is removed, with every process stopped, when the test ends.
package labtest

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pecspec/pecspec/reference/lab"
)

// FreeBase as Options.Ports asks UpWith for a fixed port layout at a free
// BASE.
const FreeBase = -1

var (
	buildOnce sync.Once
	built     string
	buildErr  error
	buildOut  []byte
)

// Pecref builds cmd/pecref into a temporary directory once per process and
// returns the binary's path.
func Pecref(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pecref-bin-")
		if err != nil {
			buildErr = err
			return
		}
		built = filepath.Join(dir, "pecref")
		cmd := exec.Command("go", "build", "-o", built, "github.com/pecspec/pecspec/cmd/pecref")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		tb.Fatalf("build pecref: %v\n%s", buildErr, buildOut)
	}
	return built
}

// Up starts a lab for the test and stops it at cleanup. The directory is short
// (unix socket paths are limited to 108 bytes) and kept when the test failed,
// with its logs, for inspection.
func Up(tb testing.TB) *lab.Lab {
	tb.Helper()
	return UpWith(tb, lab.Options{})
}

// UpWith is Up with options; Dir and Pecref are filled in. With
// opts.Ports = FreeBase, a BASE is drawn at random and drawn again while
// its ports are taken.
func UpWith(tb testing.TB, opts lab.Options) *lab.Lab {
	tb.Helper()
	return UpAt(tb, opts, nil)
}

// UpAt is UpWith calling before(BASE) ahead of each try with a drawn BASE
// (a provider under test's enrolment file that depends on the lab's MX port
// is written there).
func UpAt(tb testing.TB, opts lab.Options, before func(base int)) *lab.Lab {
	tb.Helper()
	bin := Pecref(tb)
	dir, err := os.MkdirTemp("", "pecspec-lab-")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	opts.Dir, opts.Pecref = dir, bin
	random := opts.Ports == FreeBase
	var l *lab.Lab
	for try := 0; ; try++ {
		if random {
			opts.Ports = 20000 + 50*rand.IntN(800)
			if before != nil {
				before(opts.Ports)
			}
		}
		l, err = lab.Up(ctx, opts)
		if err == nil || !random || try == 5 || !strings.Contains(err.Error(), "is taken") {
			break
		}
	}
	if err != nil {
		tb.Fatalf("lab up: %v (logs in %s)", err, dir)
	}
	tb.Logf("lab up in %v at %s", time.Since(start).Round(time.Millisecond), dir)
	tb.Cleanup(func() {
		if err := l.Down(); err != nil {
			tb.Errorf("lab down: %v", err)
		}
		if !tb.Failed() {
			os.RemoveAll(dir)
		} else {
			tb.Logf("lab directory kept: %s", dir)
		}
	})
	return l
}
