package main

// rulesUsage is the help of `pecspec rules` (cmdRules is in grade.go).
const rulesUsage = `usage: pecspec rules [--format text|json] [--coverage]

List the rule catalogue the grader and the scenarios apply (pec-rules §9):
for each rule its ID, level (MUST, SHOULD, observed), section (RFC 6109 or
DM 2005), title and the message kinds it applies to. With --coverage, every
rule with the scenarios whose tags say they grade it, and the rules no
scenario grades.

flags:
  --format text|json   a table (default) or a JSON list
  --coverage           the coverage of the catalogue by the scenarios

exit codes:
  0  listed
  2  usage error

examples:
  pecspec rules | grep ^GEN
  pecspec rules --coverage --format json
`
