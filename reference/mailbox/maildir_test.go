package mailbox

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDeliverIsMaildir(t *testing.T) {
	root := t.TempDir()
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddMailbox("Bob@PEC.beta.test"); err != nil {
		t.Fatal(err)
	}
	msg := []byte("Subject: a\r\n\r\nline\r\n")
	name, err := s.Deliver("bob@pec.beta.test", bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(root, "bob@pec.beta.test", "new", name))
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("new/%s = %q, %v; want the bytes as delivered", name, got, err)
	}
	if left, _ := os.ReadDir(filepath.Join(root, "bob@pec.beta.test", "tmp")); len(left) != 0 {
		t.Errorf("tmp/ not empty after delivery: %v", left)
	}
	if _, err := s.Deliver("nobody@pec.beta.test", bytes.NewReader(msg)); !errors.Is(err, ErrNoMailbox) {
		t.Errorf("unknown mailbox: err = %v, want ErrNoMailbox", err)
	}
	if err := s.AddMailbox("../evil"); err == nil {
		t.Error("path traversal in an address accepted")
	}
	s.Deliver("bob@pec.beta.test", strings.NewReader("Subject: b\r\n\r\n"))
	s2, _ := Open(root) // reopened store knows the mailbox and its order
	names, err := s2.List("bob@pec.beta.test")
	if err != nil || len(names) != 2 || !strings.HasSuffix(names[0], name) {
		t.Errorf("List after reopen = %v, %v", names, err)
	}
}

// TestDeliverOnce: a keyed delivery is made once per mailbox, also after the
// store is reopened (a restart after a crash), and listed like any other.
func TestDeliverOnce(t *testing.T) {
	root := t.TempDir()
	s, _ := Open(root)
	s.AddMailbox("bob@pec.beta.test")
	s.AddMailbox("eve@pec.beta.test")
	if _, dup, err := s.DeliverOnce("bob@pec.beta.test", "abc-1", strings.NewReader("m1")); dup || err != nil {
		t.Fatalf("first delivery: dup %v, %v", dup, err)
	}
	if _, dup, _ := s.DeliverOnce("bob@pec.beta.test", "abc-1", strings.NewReader("m1 again")); !dup {
		t.Error("second delivery with the same key was made")
	}
	if _, dup, _ := s.DeliverOnce("eve@pec.beta.test", "abc-1", strings.NewReader("m1")); dup {
		t.Error("the key of another mailbox blocked a delivery")
	}
	s2, _ := Open(root)
	if _, dup, _ := s2.DeliverOnce("BOB@pec.beta.test", "abc-1", strings.NewReader("m1")); !dup {
		t.Error("after reopening, the key was forgotten")
	}
	if _, _, err := s2.DeliverOnce("bob@pec.beta.test", "../x", strings.NewReader("")); err == nil {
		t.Error("a key with a path accepted")
	}
	names, _ := s2.List("bob@pec.beta.test")
	if len(names) != 1 {
		t.Fatalf("bob has %d messages, want 1", len(names))
	}
	if got, _ := s2.Read("bob@pec.beta.test", names[0]); string(got) != "m1" {
		t.Errorf("stored %q", got)
	}
}
