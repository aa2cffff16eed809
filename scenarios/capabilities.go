package scenarios

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/cucumber/messages/go/v21"

	"github.com/pecspec/pecspec/probe"
)

// Capabilities a target file may declare (`capabilities:`): what the PEC
// rules leave to the provider. A scenario that needs one carries the tag
// @needs-<capability>; against a target that does not declare it the
// scenario is reported skipped ("needs <capability>"), never passed, and the
// summary lists it. What PEC makes mandatory — antivirus, the index, the
// receipts — is never a capability: every target is graded on it.
var Capabilities = map[string]string{
	"controllable-clock": "the admin API (admin: in the target file) can advance the provider's clock " +
		"(GET /clock says controllable, POST /clock/advance?by=13h): the 12 h / 24 h timeout scenarios then take " +
		"seconds; without it they wait in real time and resume with pecspec run --resume",
	"receives-ordinary-mail": "the provider's MX takes ordinary (non-PEC) mail for its users and delivers it in a " +
		"busta di anomalia (RFC 6109 §3.2.2); a provider whose mailboxes refuse ordinary mail leaves it out",
	"sends-to-ordinary-mail": "the provider accepts certified messages to recipients outside PEC (esterno, RFC 6109 " +
		"§2.2.1) and sends them the busta di trasporto",
	capPOP3: "the provider's users read their mailbox over POP3S (RFC 1939, implicit TLS) as well as IMAPS: declared " +
		"by a pop3 endpoint in the target file, not by this list",
	"simulated-virus": "the provider has an outcome-simulation mailbox (an account with name: " + virusHandle + ") whose " +
		"incoming envelopes its reception point takes as infected, as if its antivirus had found a virus the sending " +
		"provider's missed (RFC 6109 §3.2.3–4): the virus found in transit is then tested with this provider receiving",
}

// capPOP3 is declared by the target file's pop3 endpoint.
const capPOP3 = "pop3"

// virusHandle is the account handle of the simulated-virus mailbox.
const virusHandle = probe.SimulatedVirusHandle

// mandatory are features some target files list as capabilities although
// PEC requires them of every provider.
var mandatory = map[string]string{
	"antivirus": "RFC 6109 §3.1.3, §3.2.3, §5.4",
	"index":     "RFC 6109 §4.5",
	"receipts":  "RFC 6109 §3",
	"breve":     "RFC 6109 §3.3.2.2",
}

// tagNeeds prefixes the capability tags of the features: what the target
// must declare; tagCounterpartNeeds what the counterpart must (a
// cross-provider scenario that needs the receiving provider's help).
const (
	tagNeeds            = "@needs-"
	tagCounterpartNeeds = "@counterpart-needs-"
)

// checkCapabilities refuses unknown and mandatory capabilities: a misspelt
// one would silently skip scenarios.
func checkCapabilities(caps []string) error {
	var bad []string
	for _, c := range caps {
		switch {
		case mandatory[c] != "":
			bad = append(bad, fmt.Sprintf("%q is mandatory for every PEC provider (%s): remove it", c, mandatory[c]))
		case Capabilities[c] == "":
			bad = append(bad, fmt.Sprintf("%q is not a capability (known: %s)", c, strings.Join(capabilityNames(), ", ")))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: target capabilities: %s", ErrHarness, strings.Join(bad, "; "))
	}
	return nil
}

func capabilityNames() []string {
	var names []string
	for n := range Capabilities {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// missingCapability is the first capability the tags need and the target
// (or the counterpart) does not declare, or "".
func (r *runner) missingCapability(tags []*messages.PickleTag) string {
	for _, t := range tags {
		if c, ok := strings.CutPrefix(t.Name, tagNeeds); ok && !r.declares(c) {
			return c
		}
		if c, ok := strings.CutPrefix(t.Name, tagCounterpartNeeds); ok {
			if cp := r.opts.Target.Counterpart; cp == nil || !declares(cp, c) {
				return c + " at the counterpart"
			}
		}
	}
	return ""
}

// checkVirusMailbox: a provider that declares simulated-virus names its
// outcome-simulation mailbox.
func checkVirusMailbox(t *probe.Target) error {
	if !slices.Contains(t.Capabilities, "simulated-virus") {
		return nil
	}
	if _, ok := t.Account(virusHandle); !ok {
		return &preflightError{fmt.Sprintf("preflight: %s: declares simulated-virus but has no account %q (its outcome-simulation mailbox)",
			t.Name, virusHandle)}
	}
	return nil
}

// declares reports whether the target declares capability c.
func (r *runner) declares(c string) bool { return declares(r.opts.Target, c) }

// declares reports whether t declares capability c (pop3: by its pop3
// endpoint).
func declares(t *probe.Target, c string) bool {
	if c == capPOP3 {
		return t.POP3.Port != 0
	}
	return slices.Contains(t.Capabilities, c)
}
