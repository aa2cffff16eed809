package scenarios

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pecspec/pecspec/probe"
)

// TestAdminAPIBounded: an admin API that answers without end is a harness
// error at adminBodyMax, within seconds, not a read of everything it sends.
func TestAdminAPIBounded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 64<<10))
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	r := &runner{opts: Options{StepTimeout: 10 * time.Second}}
	p := &probe.Target{Name: "hostile", Admin: &probe.Admin{URL: srv.URL, Token: "t"}}
	start := time.Now()
	err := r.adminCall(context.Background(), p, http.MethodGet, "/clock", nil, nil)
	if !isHarness(err) || !errors.Is(err, probe.ErrOverBound) || !strings.Contains(err.Error(), "hostile admin API") {
		t.Errorf("err = %v, want a harness error over the bound naming the admin API", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}
