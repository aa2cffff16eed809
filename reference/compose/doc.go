// Package compose holds what every point of the reference provider needs to
// write a PEC system message (RFC 6109 §2.1, §4.3): the raw header of the
// original kept unmodified, the Italian human-readable texts, the
// multipart/mixed body (text, daticert.xml, postacert.eml) and the sealing of
// it into a signed multipart/signed message. The points (accesspoint,
// receptionpoint, deliverypoint) decide what to say; compose only writes it.
package compose
