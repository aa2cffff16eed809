package deliverypoint

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"mime"
	"strings"

	"github.com/pecspec/pecspec/pec"
)

// breve rewrites the original for a ricevuta breve di avvenuta consegna (RFC
// 6109 §3.3.2.2): the MIME structure is kept (BRV-01); every part with a name
// or filename, and every embedded message/rfc822, becomes a text/plain part
// "<filename>.hash" holding the SHA-1 of the part's body as it travelled
// (transfer-encoded: the "SHOULD be calculated on base64 encoded parts" of
// §3.3.2.2, pec-rules A12) in 40 hex characters (BRV-02…04). The signature
// part of a multipart/signed original is kept unchanged (BRV-05) and an
// application/pkcs7-mime original is left intact (BRV-06). A part that
// cannot be read is hashed as a whole rather than guessed at.
func breve(original []byte) []byte {
	e, err := pec.ReadEntity(original)
	if err != nil {
		return original
	}
	switch t, _ := e.MediaType(); t {
	case "application/pkcs7-mime", "application/x-pkcs7-mime":
		return original
	}
	return rewrite(e, 0, true)
}

func rewrite(e *pec.Entity, depth int, top bool) []byte {
	t, params := e.MediaType()
	head := e.Raw[:len(e.Raw)-len(e.Body)]
	switch {
	case !top && (e.Filename() != "" || t == "message/rfc822"):
		return hashPart(e, t)
	case strings.HasPrefix(t, "multipart/") && depth < pec.MaxDepth:
		parts, err := e.Parts()
		if err != nil {
			return hashPart(e, t)
		}
		var b bytes.Buffer
		b.Write(head)
		for i, p := range parts {
			b.WriteString("--" + params["boundary"] + "\r\n")
			if t == "multipart/signed" && i == len(parts)-1 {
				b.Write(p.Raw) // the signature part, unchanged (BRV-05)
			} else {
				b.Write(rewrite(p, depth+1, false))
			}
			b.WriteString("\r\n")
		}
		b.WriteString("--" + params["boundary"] + "--\r\n")
		return b.Bytes()
	}
	return e.Raw
}

// hashPart is the text/plain replacement of one part (BRV-02, BRV-03).
func hashPart(e *pec.Entity, t string) []byte {
	name := e.Filename()
	if name == "" {
		name = "messaggio.eml"
		if t != "message/rfc822" {
			name = "parte"
		}
	}
	name += ".hash"
	sum := sha1.Sum(e.Body)
	return fmt.Appendf(nil, "Content-Type: %s\r\nContent-Disposition: %s\r\n"+
		"Content-Transfer-Encoding: 7bit\r\n\r\n%s",
		mime.FormatMediaType("text/plain", map[string]string{"charset": "us-ascii", "name": name}),
		mime.FormatMediaType("attachment", map[string]string{"filename": name}),
		hex.EncodeToString(sum[:]))
}
