package pecspec_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering enforces the one-way imports of STYLE 4 / DESIGN.md: pec/ is a
// leaf; report/ imports only pec/; probe/ never imports reference/, report/ or
// scenarios/; reference/
// never imports probe, report or scenarios; the roles never import each other.
func TestLayering(t *testing.T) {
	const mod = "github.com/pecspec/pecspec/"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	roles := []string{"reference/accesspoint", "reference/receptionpoint", "reference/deliverypoint"}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], mod)
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, mod) {
				continue
			}
			dep := strings.TrimPrefix(imp, mod)
			if why := forbidden(pkg, dep, roles); why != "" {
				t.Errorf("%s imports %s: %s", pkg, dep, why)
			}
		}
	}
}

func forbidden(pkg, dep string, roles []string) string {
	under := func(p, root string) bool { return p == root || strings.HasPrefix(p, root+"/") }
	switch {
	case under(pkg, "pec") && !under(dep, "pec"):
		return "pec/ is a leaf (only pec/ subpackages)"
	case under(pkg, "report") && !under(dep, "report") && !under(dep, "pec"):
		return "report/ imports only pec/ (the oracle is independent)"
	case under(pkg, "probe") && under(dep, "reference"):
		return "the probe drives providers only through protocols"
	case under(pkg, "probe") && (under(dep, "report") || under(dep, "scenarios")):
		return "the probe never imports the grader or the suite (probe/load takes a Grader function)"
	case under(pkg, "reference") && (under(dep, "probe") || under(dep, "report") || under(dep, "scenarios")):
		return "the reference never imports the harness"
	}
	for _, r := range roles {
		for _, o := range roles {
			if r != o && under(pkg, r) && under(dep, o) {
				return "roles never import each other; the provider root wires them"
			}
		}
	}
	return ""
}
