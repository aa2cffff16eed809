// Package accesspoint implements the punto di accesso of the reference provider
// (RFC 6109 §2.2.1, §3.1, §5.2–§5.3): authenticated submission over TLS, the
// formal checks, the virus scan, the classification of recipients through the
// index, the PEC msgid, the ricevuta di accettazione (RFC 6109 §3.1.4) and the
// busta di trasporto (RFC 6109 §3.1.5).
package accesspoint
