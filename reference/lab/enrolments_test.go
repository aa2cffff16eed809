package lab

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSeveralEnrolments: several providers under test read side by side,
// each in its own DIR/put/<name>/; two that claim the same name, domain or
// MX are refused, naming both.
func TestSeveralEnrolments(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	acme := write("acme", goodEnrolment)
	other := strings.NewReplacer("acme", "omega", "ACME", "OMEGA", "127.0.0.9", "127.0.0.19").Replace(goodEnrolment)
	l := &Lab{Dir: dir}
	if err := l.readEnrolments(Options{Enrol: acme, Enrols: []string{write("omega", other)}}); err != nil {
		t.Fatalf("two distinct providers: %v", err)
	}
	if len(l.PUTs) != 2 || l.PUT("omega") == nil || l.putPath(l.PUT("omega"), "ca.pem") != filepath.Join(dir, "put", "omega", "ca.pem") {
		t.Errorf("two providers: %d read, omega's files at %v", len(l.PUTs), l.PUT("omega"))
	}
	one := &Lab{Dir: dir}
	if err := one.readEnrolments(Options{Enrol: acme}); err != nil || one.putPath(one.PUTs[0], "ca.pem") != filepath.Join(dir, "put", "ca.pem") {
		t.Errorf("one provider: %v, its files in %s", err, one.PUTs[0].dir)
	}
	for name, tc := range map[string]struct{ body, want string }{
		"same domain": {strings.NewReplacer("name: acme", "name: omega", "provider_name: ACME", "provider_name: OMEGA",
			"127.0.0.9", "127.0.0.19").Replace(goodEnrolment), `same domain "pec.acme.test"`},
		"same mx": {strings.NewReplacer("acme", "omega", "ACME", "OMEGA").Replace(goodEnrolment), `same mx "127.0.0.9:20025"`},
	} {
		err := (&Lab{Dir: dir}).readEnrolments(Options{Enrols: []string{acme, write("clash", tc.body)}})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "acme and omega") {
			t.Errorf("%s: err %v, want one naming both and containing %q", name, err, tc.want)
		}
	}
}
