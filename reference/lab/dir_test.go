package lab

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestPrepareDir(t *testing.T) {
	dir := t.TempDir()
	lab := filepath.Join(dir, "lab")
	if err := prepareDir(lab); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(lab, "old-token"), []byte("x"), 0o600)
	if err := prepareDir(lab); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(lab, "old-token")); !os.IsNotExist(err) {
		t.Error("a previous lab was not reset")
	}
	other := filepath.Join(dir, "home")
	os.MkdirAll(other, 0o700)
	os.WriteFile(filepath.Join(other, "precious"), []byte("x"), 0o600)
	if err := prepareDir(other); !errors.Is(err, ErrLab) {
		t.Errorf("non-empty non-lab directory: err = %v, want ErrLab", err)
	}
	if _, err := os.Stat(filepath.Join(other, "precious")); err != nil {
		t.Error("a file outside a lab was touched")
	}
}
