package pec

import "github.com/emersion/go-message/textproto"

func headerOf(kv ...string) textproto.Header {
	var h textproto.Header
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}
