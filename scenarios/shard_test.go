package scenarios

import (
	"fmt"
	"slices"
	"testing"

	"github.com/pecspec/pecspec/features"
	"github.com/pecspec/pecspec/probe"
)

func TestParseShard(t *testing.T) {
	for in, want := range map[string]Shard{"": {}, "1/1": {1, 1}, "2/3": {2, 3}} {
		if got, err := ParseShard(in); err != nil || got != want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"0/3", "4/3", "3", "a/b", "1/0", "-1/2"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q): no error", bad)
		}
	}
}

// TestMatchTags: godog's tag expressions ("&&" and, "," or, "~" not).
func TestMatchTags(t *testing.T) {
	tags := []string{"@flow-delivery", "@interop", "@GEN-15"}
	for expr, want := range map[string]bool{
		"": true, "@interop": true, "~@interop": false, "@flow-virus,@interop": true,
		"@flow-virus,~@interop": false, "@interop && ~@exclusive": true, "@interop && @exclusive": false,
		"@flow-virus,@flow-delivery && ~@exclusive && @GEN-15": true, "~@exclusive": true,
	} {
		if got := MatchTags(expr, tags); got != want {
			t.Errorf("MatchTags(%q, %v) = %v, want %v", expr, tags, got, want)
		}
	}
}

// TestShardsPartitionTheSuite: for any n, shards 1…n of the suite (with or
// without tags) select each scenario once, and are as even as a deal makes
// them.
func TestShardsPartitionTheSuite(t *testing.T) {
	pickles, err := Pickles(features.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, tags := range []string{"", "@interop", "~@interop && ~@exclusive"} {
		all := shardPaths(pickles, tags, Shard{})
		if len(all) == 0 {
			t.Fatalf("%q selects nothing", tags)
		}
		for n := 1; n <= 5; n++ {
			var joined []string
			for i := 1; i <= n; i++ {
				part := shardPaths(pickles, tags, Shard{i, n})
				if len(part) < len(all)/n || len(part) > len(all)/n+1 {
					t.Errorf("%q shard %d/%d: %d of %d scenarios", tags, i, n, len(part), len(all))
				}
				joined = append(joined, part...)
			}
			slices.SortFunc(joined, comparePaths)
			if !slices.Equal(joined, all) {
				t.Errorf("%q in %d shards: %v, want %v", tags, n, joined, all)
			}
		}
	}
}

// TestPlanUnitsShards: every unit of a matrix in exactly one shard, pairs
// before the providers' own units, the same plan whatever the order the
// providers come in.
func TestPlanUnitsShards(t *testing.T) {
	names := []string{"delta", "alpha", "faulty", "beta"}
	var ps []*probe.Target
	for _, n := range names {
		ps = append(ps, &probe.Target{Name: n})
	}
	plan := func(s Shard, order []*probe.Target) []string {
		var out []string
		for _, u := range planUnits(order, s) {
			if u.mine {
				out = append(out, fmt.Sprintf("%s/%s", u.name(), u.unitDir()))
			}
		}
		return out
	}
	whole := plan(Shard{}, ps)
	if len(whole) != 4*3+4+4 || whole[0] != "alpha → beta/pairs/alpha/beta" {
		t.Fatalf("plan: %v", whole)
	}
	reversed := slices.Clone(ps)
	slices.Reverse(reversed)
	var joined []string
	for i := 1; i <= 3; i++ {
		if a, b := plan(Shard{i, 3}, ps), plan(Shard{i, 3}, reversed); !slices.Equal(a, b) {
			t.Errorf("shard %d/3 depends on the providers' order: %v vs %v", i, a, b)
		}
		joined = append(joined, plan(Shard{i, 3}, ps)...)
	}
	slices.Sort(joined)
	slices.Sort(whole)
	if !slices.Equal(joined, whole) {
		t.Errorf("shards join to %v, want %v", joined, whole)
	}
}
