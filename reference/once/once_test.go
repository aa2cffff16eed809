package once

import (
	"context"
	"testing"
)

func TestScope(t *testing.T) {
	if _, ok := Name(context.Background(), "deliver", "a@b"); ok {
		t.Fatal("Name outside a scope")
	}
	k := Key([]string{"X@y", "w@y"}, []byte("one"))
	if k != Key([]string{"w@y", "x@Y"}, []byte("one")) {
		t.Error("the key depends on recipient order or case")
	}
	if k == Key([]string{"w@y"}, []byte("one")) || Key(nil, []byte("1")) == Key(nil, []byte("2")) {
		t.Error("different messages share a key")
	}
	var busy Busy
	rel, ok := busy.Acquire(k)
	if _, ok2 := busy.Acquire(k); !ok || ok2 {
		t.Fatal("a key was acquired twice")
	}
	rel()
	if _, ok := busy.Acquire(k); !ok {
		t.Error("a released key stays busy")
	}
}

// output is one output of a reception: what it is about and where it goes.
type output struct{ kind, rcpt, sink, dest string }

// TestNamesIgnoreOrder: a reception interrupted after some outputs and
// replayed with its outputs in another order makes each output exactly once,
// into a store that refuses names it holds (issue 15). Output names that
// depended on the order of production failed this.
func TestNamesIgnoreOrder(t *testing.T) {
	outs := []output{
		{"presa-in-carico", "", "send", "ricevute@pec.alpha.test"},
		{"consegna", "alice@pec.beta.test", "deliver", "alice@pec.beta.test"},
		{"consegna", "alice@pec.beta.test", "send", "mario@pec.alpha.test"},
		{"consegna", "alice@pec.beta.test", "registro", "consegna"},
		{"consegna", "bob@pec.beta.test", "deliver", "bob@pec.beta.test"},
		{"consegna", "bob@pec.beta.test", "send", "mario@pec.alpha.test"},
		{"consegna", "bob@pec.beta.test", "registro", "consegna"},
	}
	ctx := With(context.Background(), Key([]string{"alice@pec.beta.test", "bob@pec.beta.test"}, []byte("busta")))
	name := func(o output) string {
		n, _ := Name(About(ctx, o.kind, o.rcpt), o.sink, o.dest)
		return n
	}
	for crash := 0; crash <= len(outs); crash++ {
		store := map[string]output{} // name → the output stored under it
		made := map[output]int{}
		put := func(o output) {
			if _, held := store[name(o)]; !held {
				store[name(o)] = o
				made[o]++
			}
		}
		for _, o := range outs[:crash] { // the run a crash interrupted
			put(o)
		}
		for i := len(outs) - 1; i >= 0; i-- { // the replay, in reverse order
			put(outs[i])
		}
		for _, o := range outs {
			if made[o] != 1 {
				t.Errorf("crash after %d outputs: %+v made %d times", crash, o, made[o])
			}
		}
	}
	if name(outs[2]) == name(outs[5]) {
		t.Error("the receipts for two recipients share a name")
	}
}
