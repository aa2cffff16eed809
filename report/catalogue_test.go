package report

import (
	"regexp"
	"strings"
	"testing"
)

var (
	reID      = regexp.MustCompile(`^(GEN|SIG|CRT|ACC|NAC|APC|TRN|PIC|CON|BRV|ERR|TIM|ANO|VIR|DAT|IDX|LOG|OPS)-\d{2}$`)
	reSection = regexp.MustCompile(`^(RFC\d{4} §\d+(\.\d+)*|DM2005 art\.\d+ c\.\d+|observed [A-Z0-9-]+)$`)
)

// TestCatalogue checks every rule value: ID format and family, uniqueness,
// level, section format (STYLE 11), a title, and a check of the right shape.
func TestCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Catalogue() {
		if !reID.MatchString(r.ID) {
			t.Errorf("%s: ID format", r.ID)
		}
		if seen[r.ID] {
			t.Errorf("%s: duplicate ID", r.ID)
		}
		seen[r.ID] = true
		if r.Level != Must && r.Level != Should && r.Level != Observed {
			t.Errorf("%s: level %q", r.ID, r.Level)
		}
		if !reSection.MatchString(r.Section) {
			t.Errorf("%s: section %q is not in the one reference format", r.ID, r.Section)
		}
		if strings.TrimSpace(r.Title) == "" {
			t.Errorf("%s: no title", r.ID)
		}
		if r.Multi && (r.txCheck == nil || r.check != nil) || !r.Multi && (r.check == nil || len(r.Kinds) == 0) {
			t.Errorf("%s: check does not match Multi=%v", r.ID, r.Multi)
		}
	}
	for _, fam := range []string{"GEN", "SIG", "CRT", "DAT", "ACC", "TRN", "PIC", "CON"} {
		if !seen[fam+"-01"] {
			t.Errorf("family %s is not in the catalogue", fam)
		}
	}
}
