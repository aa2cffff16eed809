// Package flowtest holds the integration tests of the reference provider's
// flows (pec-rules §7): each runs on the real lab (SoftHSM2 tokens, slapd,
// clamd, two pecref processes and the ordinary mail domain), drives it only
// through SMTP, IMAP and the admin API, and judges every message the
// reference emits with the grader (report), openssl and xmllint. It lives
// outside reference/ because the reference never imports the harness.
package flowtest
