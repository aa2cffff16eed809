package durable

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, "f")
	if err := Write(filepath.Join(dir, "f.tmp"), final, []byte("data")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(final); string(got) != "data" {
		t.Errorf("got %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "f.tmp")); !os.IsNotExist(err) {
		t.Error("temporary file left behind")
	}
	if err := Write(filepath.Join(dir, "g.tmp"), filepath.Join(dir, "missing", "g"), []byte("x")); err == nil {
		t.Error("rename into a missing directory succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "g.tmp")); !os.IsNotExist(err) {
		t.Error("temporary file left behind after a failure")
	}
}
