package report

import (
	"slices"
	"sort"
	"sync"

	"github.com/pecspec/pecspec/pec"
)

// Rule is one rule of pec-rules §9 as a value (STYLE 9): a fixed ID, its
// level and source section, the message kinds it applies to, and its check.
// Multi rules are judged over the messages of one transaction; a message
// rule with a txCheck too is judged on each message and again over the
// transaction, where more is known (CON-04: the submission's To and Cc).
type Rule struct {
	ID      string
	Level   Level
	Section string // one reference format everywhere: "RFC6109 §3.1.4", "DM2005 art.6 c.6"
	Title   string
	Kinds   []pec.Kind
	Multi   bool
	Note    string // how an ambiguity of pec-rules §10 was resolved, when one was
	// Needs are the data the check judges (a signature part, the CMS, the
	// certification data…): when one is missing the rule is na, naming the
	// rule whose failure is the root cause (deps.go).
	Needs   []need
	check   func(*Msg) outcome
	txCheck func(*Tx) outcome
}

// Applies reports whether r judges messages of kind k.
func (r Rule) Applies(k pec.Kind) bool { return !r.Multi && slices.Contains(r.Kinds, k) }

var registry []Rule

// register adds rules to the catalogue (called from each family file's init).
func register(rs ...Rule) { registry = append(registry, rs...) }

var (
	sortedOnce sync.Once
	sorted     []Rule
)

// Catalogue returns every rule, sorted by ID. The registry is complete once
// the package is initialised; the sorted copy is made once and shared, so
// callers must not modify it.
func Catalogue() []Rule {
	sortedOnce.Do(func() {
		sorted = slices.Clone(registry)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	})
	return sorted
}

// Kind sets used by the families.
var (
	receipts = []pec.Kind{pec.KindAccettazione, pec.KindNonAccettazione, pec.KindPresaInCarico,
		pec.KindAvvenutaConsegna, pec.KindErroreConsegna, pec.KindPreavvisoErroreConsegna, pec.KindRilevazioneVirus}
	withDaticert = append(slices.Clone(receipts), pec.KindTrasporto)
	allPEC       = append(slices.Clone(withDaticert), pec.KindAnomalia)
	// anyPEC adds the messages that claim or look like PEC but whose kind is
	// unknown (GEN-12 fails them): the rules that do not depend on the kind
	// still judge them.
	anyPEC     = append(slices.Clone(allPEC), pec.KindSconosciuto)
	identified = anyPEC
	// dataPEC is withDaticert and sconosciuto: the rules judging the
	// certification data itself, whatever the header says.
	dataPEC = append(slices.Clone(withDaticert), pec.KindSconosciuto)
	// notEnvelopes are the receipts, notices, the anomaly and sconosciuto.
	notEnvelopes = append(slices.Clone(receipts), pec.KindAnomalia, pec.KindSconosciuto)
)

func kinds(k ...pec.Kind) []pec.Kind { return k }
