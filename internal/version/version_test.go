package version

import (
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/pecspec/pecspec", Version: "v0.0.0-20261202100000-0123456789ab+dirty"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-02T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	in := fromBuildInfo(bi)
	if in.Revision != "0123456789abcdef0123" || !in.Modified || in.Time != "2026-12-02T10:00:00Z" {
		t.Errorf("fromBuildInfo = %+v", in)
	}
	want := "pecspec v0.0.0-20261202100000-0123456789ab+dirty (commit 0123456789ab+dirty, 2026-12-02T10:00:00Z, go1.26.0)"
	if got := in.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	bare := fromBuildInfo(&debug.BuildInfo{GoVersion: "go1.26.0"})
	if bare.Version != "(devel)" || bare.Short() != "unknown" {
		t.Errorf("no VCS information: %+v %q", bare, bare.Short())
	}
}
