package load

import (
	"io"
	"testing"

	"github.com/pecspec/pecspec/pec"
)

// FuzzArrivalParsing feeds what a hostile IMAP server could answer to the
// receiver's parsers: the fetched header fields (kind, run token) and a
// daticert part in each transfer encoding. Nothing may panic; a token found
// must be this package's shape.
func FuzzArrivalParsing(f *testing.F) {
	f.Add([]byte("X-Ricevuta: accettazione\r\nX-Riferimento-Message-ID: <pecspec-load-0a1b2c3d-17@probe.pecspec.test>\r\n"),
		[]byte("PD94bWwgdmVyc2lvbj0iMS4wIj8+PHBvc3RhY2VydC8+"), "base64")
	f.Add([]byte("X-Trasporto: posta-certificata\r\nSubject: =?utf-8?q?POSTA_CERTIFICATA:_pecspec_load_pecspec-load-00000000-1?=\r\n"),
		[]byte("<postacert tipo=3D\"accettazione\"/>"), "quoted-printable")
	f.Add([]byte("Subject: x\r\n\r\n"), []byte("<postacert/>"), "7bit")
	f.Fuzz(func(t *testing.T, head, part []byte, encoding string) {
		h := parseFields(head)
		classify(h.Get("X-Ricevuta"), h.Get("X-Trasporto"))
		if run, seq, ok := messageToken(h.Get); ok && (len(run) != 8 || seq < 0) {
			t.Fatalf("token run %q seq %d", run, seq)
		}
		_, _ = pec.ParseDaticert(io.LimitReader(decodePart(part, encoding), 1<<20))
	})
}
