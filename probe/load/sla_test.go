package load

import (
	"errors"
	"testing"
	"time"
)

func TestParseSLA(t *testing.T) {
	for _, c := range []struct {
		in                    string
		kind                  Kind
		measure, stat, metric string
		op                    string
		limit                 float64
	}{
		{"accettazione.p99<30m", Accettazione, FromIntended, "p99", "", "<", 30 * 60 * 1000},
		{"consegna.eod.p99.9 <= 2m", Consegna, FromEOD, "p99.9", "", "<=", 120000},
		{"pic.daticert.max<1.5s", PresaInCarico, Daticert, "max", "", "<", 1500},
		{"trasporto.p999<1d", Trasporto, FromIntended, "p99.9", "", "<", 86400000},
		{"accettazione.count==100", Accettazione, FromIntended, "count", "", "==", 100},
		{"lost==0", "", "", "", "lost", "==", 0},
		{"achieved>=95%", "", "", "", "achieved", ">=", 0.95},
		{"graded-failures==0", "", "", "", "graded-failures", "==", 0},
	} {
		s, err := ParseSLA(c.in)
		if err != nil {
			t.Errorf("ParseSLA(%q): %v", c.in, err)
			continue
		}
		if s.Kind != c.kind || s.Measure != c.measure || s.Stat != c.stat || s.Metric != c.metric || s.Op != c.op || s.Limit != c.limit {
			t.Errorf("ParseSLA(%q) = %+v", c.in, s)
		}
	}
	for _, bad := range []string{"", "accettazione<30m", "nonsense.p99<1s", "accettazione.p98<1s", "lost=0",
		"accettazione.p99<thirty", "achieved>=lots", "accettazione.p99 30m"} {
		if _, err := ParseSLA(bad); !errors.Is(err, ErrSLA) {
			t.Errorf("ParseSLA(%q) = %v, want ErrSLA", bad, err)
		}
	}
	if _, err := ParseSLAs([]string{"lost==0", "x", "y"}); err == nil {
		t.Error("ParseSLAs accepted malformed expressions")
	}
}

// TestEvalSLA judges expressions on a phase with known measurements.
func TestEvalSLA(t *testing.T) {
	p := newPhase(10, time.Now(), 10*time.Second)
	for i := 1; i <= 100; i++ {
		p.hists[Accettazione].intended.Record(time.Duration(i) * 10 * time.Millisecond)
	}
	p.Lost, p.Errors["smtp 451 4.3.0"] = 2, 3
	p.Complete, p.AchievedRate = 98, 9.8
	p.finish()
	p.AchievedRate = 9.8
	for _, c := range []struct {
		expr string
		pass bool
	}{
		{"accettazione.p50<501ms", true}, {"accettazione.p50<499ms", false},
		{"accettazione.max<=1001ms", true}, {"accettazione.p99<900ms", false},
		{"accettazione.count==100", true},
		{"consegna.p99<1h", false}, // nothing arrived: no evidence it was met
		{"lost==0", false}, {"lost<=2", true}, {"errors==3", true}, {"errors==0", false},
		{"achieved>=95%", true}, {"achieved>=0.99", false},
	} {
		s, err := ParseSLA(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		if r := s.Eval(p); r.Pass != c.pass {
			t.Errorf("%s on the phase: pass %v (value %s), want %v", c.expr, r.Pass, r.Value, c.pass)
		}
	}
}
