// Package load measures a PEC provider's service levels under load, from the
// outside (DESIGN.md "the probe never calls reference code in-process"): an
// open-loop generator submits certified messages over the target's SMTP
// submission on a fixed schedule, several accounts over several connections,
// and a receiver watches the sender's, the recipients' and the service
// mailboxes (IMAP IDLE) for the receipts of RFC 6109 §3: accettazione
// (§3.1.4), presa in carico (§3.2.1), avvenuta consegna (§3.3.2), the busta di
// trasporto (§3.1.5) and every error notice.
//
// Latency is measured from each message's intended send time (so a stalled
// target shows in every message scheduled during the stall: no coordinated
// omission) and from the end of its DATA; the provider's own instant in
// daticert.xml (data/ora, RFC 6109 §4.4) is compared with the submission time,
// and the skew between the two is kept. Percentiles come from HdrHistograms
// (bounded relative error). SLA expressions (`accettazione.p99<30m`,
// `lost==0`) judge a run; a ramp steps the rate up to the knee. The package
// writes load.json, a self-contained load.html and a console table.
//
// It imports only probe and pec: grading sampled receipts is a function the
// caller injects (cmd/pecspec wires the report package).
package load
