// Package pec is the PEC vocabulary shared by every part of pecspec: message kinds,
// header names and values (RFC 6109 Appendix A), subject prefixes (RFC 6109 §3.x),
// the daticert.xml certification data (RFC 6109 §4.4, with its DTD embedded), the
// Italian date and time formats (RFC 6109 §4.2) and the split of a signed PEC message
// into its parts (RFC 6109 §2.1, §4.3).
//
// It is a leaf: it holds no policy, composes no receipt and judges nothing. The
// reference composes messages in reference/..., the grader checks them in report/...
package pec
