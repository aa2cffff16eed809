// Package version reads what the Go toolchain recorded in the binary: the
// module version and the VCS revision it was built from (runtime/debug build
// information), for `pecspec version` and the run's reports.
package version

import (
	"fmt"
	"runtime/debug"
)

// Info identifies a build of the harness.
type Info struct {
	Module   string `json:"module"`             // module path
	Version  string `json:"version"`            // module version: a tag, a pseudo-version or "(devel)"
	Revision string `json:"revision,omitempty"` // VCS commit
	Time     string `json:"time,omitempty"`     // commit time, RFC 3339
	Modified bool   `json:"modified,omitempty"` // built from a tree with uncommitted changes
	Go       string `json:"go"`                 // toolchain
}

// revision and modified are set by the Makefile's build (-ldflags -X) for
// the trees where the toolchain records no VCS information: a git worktree
// (the go command does not stamp those), GOFLAGS=-buildvcs=false.
var revision, modified string

// Read returns the build information of the running binary; fields nobody
// recorded (go run, go test) stay empty.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = &debug.BuildInfo{}
	}
	in := fromBuildInfo(bi)
	if in.Revision == "" && revision != "" {
		in.Revision, in.Modified = revision, modified == "true"
	}
	return in
}

func fromBuildInfo(bi *debug.BuildInfo) Info {
	in := Info{Module: bi.Main.Path, Version: bi.Main.Version, Go: bi.GoVersion}
	if in.Version == "" {
		in.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Revision = s.Value
		case "vcs.time":
			in.Time = s.Value
		case "vcs.modified":
			in.Modified = s.Value == "true"
		}
	}
	return in
}

// Short is the commit's first 12 hex digits, "+dirty" when modified.
func (in Info) Short() string {
	r := in.Revision
	if len(r) > 12 {
		r = r[:12]
	}
	if r == "" {
		r = "unknown"
	}
	if in.Modified {
		r += "+dirty"
	}
	return r
}

// String is one line: "pecspec v1.2.0 (commit 0123456789ab, 2026-12-02T10:00:00Z, go1.26.0)".
func (in Info) String() string {
	s := fmt.Sprintf("pecspec %s (commit %s", in.Version, in.Short())
	if in.Time != "" {
		s += ", " + in.Time
	}
	return s + ", " + in.Go + ")"
}
