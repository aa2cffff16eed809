package provider

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pecspec/pecspec/reference/clock"
)

// TestHealthNamesTheFailingDependency: /health answers 503, status degraded
// and names the dependency that failed and the one that did not answer, within
// healthTimeout however long that one hangs (issue 15).
func TestHealthNamesTheFailingDependency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hang := make(chan struct{})
		defer close(hang)
		p := &Provider{deps: []dependency{
			{"token", func(context.Context) error { return nil }},
			{"clamd", func(context.Context) error { return errors.New("dial unix clamd.sock: connection refused") }},
			{"index", func(context.Context) error { <-hang; return nil }}, // ignores its context, as a frozen call would
		}}
		a := &admin{name: "alpha", clock: clock.System{}, health: p.health}
		start := time.Now()
		rec := httptest.NewRecorder()
		a.handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))
		if took := time.Since(start); took > healthTimeout {
			t.Errorf("/health took %v", took)
		}
		var body struct {
			Status       string
			Failing      []string
			Dependencies map[string]string
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if rec.Code != http.StatusServiceUnavailable || body.Status != "degraded" ||
			len(body.Failing) != 2 || body.Failing[0] != "clamd" || body.Failing[1] != "index" ||
			body.Dependencies["token"] != "ok" {
			t.Errorf("/health = %d %s", rec.Code, rec.Body)
		}
	})
	ok := &Provider{deps: []dependency{{"token", func(context.Context) error { return nil }}}}
	rec := httptest.NewRecorder()
	(&admin{name: "alpha", clock: clock.System{}, health: ok.health}).handler().
		ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("/health with every dependency ok = %d %s", rec.Code, rec.Body)
	}
}
