package antivirus_test

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pecspec/pecspec/fixtures"
	"github.com/pecspec/pecspec/reference/antivirus"
	"github.com/pecspec/pecspec/reference/lab"
)

func TestClamd(t *testing.T) {
	if _, err := exec.LookPath("clamd"); err != nil {
		t.Skip("clamd not installed")
	}
	dir, _ := os.MkdirTemp("", "clamd-")
	defer os.RemoveAll(dir)
	d, err := lab.StartClamd(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	c := antivirus.NewClamd("unix", d.Socket)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	attached := "From: alice@pec.alpha.test\r\nTo: bob@pec.beta.test\r\nSubject: virus\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nciao\r\n" +
		"--b\r\nContent-Type: application/octet-stream; name=t.com\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString(fixtures.EICAR) + "\r\n--b--\r\n"
	for name, tc := range map[string]struct {
		data     string
		infected bool
	}{
		"clean":          {"Subject: hi\r\n\r\nnothing here\r\n", false},
		"eicar":          {string(fixtures.EICAR), true},
		"eicar-attached": {attached, true},
	} {
		res, err := c.Scan(ctx, strings.NewReader(tc.data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.Infected != tc.infected || (tc.infected && res.Signature != fixtures.EICARSignature) {
			t.Errorf("%s: %+v, want infected=%v with %s", name, res, tc.infected, fixtures.EICARSignature)
		}
	}
	dead := antivirus.NewClamd("unix", dir+"/no.sock")
	if _, err := dead.Scan(ctx, strings.NewReader("x")); !errors.Is(err, antivirus.ErrClamd) {
		t.Errorf("dead socket: err = %v, want ErrClamd", err)
	}
}
