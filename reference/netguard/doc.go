// Package netguard bounds what network peers can hold of the reference
// provider's own listeners (issue 15, "Protocol hardening"): SMTP submission,
// the MX and the admin HTTP API. IMAP and POP3 are Dovecot's, hardened in its
// own configuration.
//
//   - Limit caps the connections of a listener, in all and per peer address
//     (an IPv6 peer counts by its /64). A connection over a cap is answered
//     and closed at once: 421 on a plaintext SMTP listener, the service
//     closing the transmission channel (RFC 5321 §3.8, §4.2.3; enhanced code
//     4.7.0, a security or policy status, RFC 3463 §3.8), 503 on HTTP.
//   - TLS handshakes implicit-TLS connections before the server sees them,
//     within a deadline: a client that never starts TLS is closed after it,
//     not after the server's idle timeout. RFC 5321 §4.5.3.2 gives no timeout
//     for TLS; a handshake is machine work and takes milliseconds.
//   - Throttle slows and then refuses a peer that fails to authenticate
//     (RFC 4954 §4 leaves the policy to the server; RFC 4954 §6 and
//     RFC 5321 §3.8 give the 421 that closes the session).
//
// The time a server waits for a command (and, in go-smtp, for a whole DATA)
// stays the server's ReadTimeout: 5 minutes, the minimum RFC 5321 §4.5.3.2.7
// asks of a server; the caps above are what bound the peers that idle.
package netguard
