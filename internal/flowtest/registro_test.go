package flowtest

import (
	"path/filepath"
	"testing"

	"github.com/pecspec/pecspec/pec"
	"github.com/pecspec/pecspec/reference/lab"
	"github.com/pecspec/pecspec/reference/txlog"
	"github.com/pecspec/pecspec/report"
)

// signedIndex: the grader's own loader reads each published .p7m (IDX-09)
// and finds that provider's record, the one beta runs on.
func signedIndex(t *testing.T, h *harness) {
	for _, in := range []*lab.Instance{h.l.Provider("alpha"), h.l.Provider("beta")} {
		ix, err := report.LoadIndex(h.l.LDIFFile(in.Name))
		if err != nil || len(ix.Providers) != 1 || ix.Providers[0].Name != in.ProviderName {
			t.Errorf("%s: report.LoadIndex = %+v, %v", in.Name, ix, err)
		}
	}
}

// registro checks both instances' transaction logs after every other flow ran
// (RFC 6109 §2.3, §4.1): the chain verifies; every kind of event the flows
// caused is there; each record of a generated message carries exactly the
// instant in that message's daticert (LOG-03) and the fields of LOG-01.
func registro(t *testing.T, h *harness) {
	events := map[txlog.Event]int{}
	matched := 0
	for _, in := range []*lab.Instance{h.l.Provider("alpha"), h.l.Provider("beta")} {
		dir := filepath.Join(in.Dir, "data", "registro")
		head, err := txlog.Verify(dir)
		if err != nil || head.Seq == 0 {
			t.Fatalf("%s registro: %+v, %v", in.Name, head, err)
		}
		err = txlog.Scan(dir, func(r *txlog.Record) error {
			events[r.Event]++
			if r.MsgID == "" || r.Time.IsZero() || r.Event == "" {
				t.Errorf("%s record %d lacks LOG-01 fields: %+v", in.Name, r.Seq, r)
			}
			for _, id := range r.Related {
				m := h.byID[id]
				if m == nil || m.Postacert == nil {
					continue
				}
				matched++
				// A reception is dated when it happened; the notice it
				// received carries the sender's instant.
				if got, want := pec.DataOf(r.Time), m.Postacert.Dati.Data; got != want && r.Event != txlog.EventRicezioneAvviso {
					t.Errorf("%s record %d (%s) time %+v, daticert of %s says %+v (LOG-03)",
						in.Name, r.Seq, r.Event, got, id, want)
				}
				if r.MsgID != m.Postacert.Dati.Identificativo || r.Tipo != string(m.Postacert.Tipo) {
					t.Errorf("%s record %d: msgid %q tipo %q, message %s has %q %q", in.Name, r.Seq, r.MsgID,
						r.Tipo, id, m.Postacert.Dati.Identificativo, m.Postacert.Tipo)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, ev := range []txlog.Event{txlog.EventAccettazione, txlog.EventNonAccettazione, txlog.EventPresaInCarico,
		txlog.EventRicezioneAvviso, txlog.EventAnomalia, txlog.EventRilevazioneVirus, txlog.EventConsegna,
		txlog.EventMancataConsegna, txlog.EventPreavviso, txlog.EventMancataConsegnaVir} {
		if events[ev] == 0 {
			t.Errorf("no %s record in either registro", ev)
		}
	}
	if matched < 20 {
		t.Errorf("only %d registro records matched a captured message", matched)
	}
	t.Logf("registro events %v; %d records checked against their messages' daticert", events, matched)
}
