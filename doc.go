// Package pecspec is the PEC (Posta Elettronica Certificata) conformance
// harness: a reference provider (reference/), a Gherkin suite (features/,
// scenarios/) driven through the probe (probe/), and a grader (report/) that
// checks every message against the rule catalogue of pec-rules §9.
package pecspec
