package once

import (
	"context"
	"testing"
)

func TestScope(t *testing.T) {
	if _, ok := Next(context.Background()); ok {
		t.Fatal("Next outside a scope")
	}
	k := Key([]string{"X@y", "w@y"}, []byte("one"))
	if k != Key([]string{"w@y", "x@Y"}, []byte("one")) {
		t.Error("the key depends on recipient order or case")
	}
	if k == Key([]string{"w@y"}, []byte("one")) || Key(nil, []byte("1")) == Key(nil, []byte("2")) {
		t.Error("different messages share a key")
	}
	ctx := With(context.Background(), k)
	a, _ := Next(ctx)
	b, _ := Next(ctx)
	if a != k+"-1" || b != k+"-2" {
		t.Errorf("names %q %q", a, b)
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
