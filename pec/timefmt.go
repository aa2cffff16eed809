package pec

import (
	"fmt"
	"time"
	_ "time/tzdata" // Europe/Rome must resolve on machines without tzdata
)

// Rome is the Italian legal time zone (RFC 6109 §4.2: times are Italian legal
// time, CET +0100 / CEST +0200).
var Rome = mustLoad("Europe/Rome")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(fmt.Sprintf("pec: load %s: %v", name, err)) // embedded tzdata: cannot fail
	}
	return loc
}

// Layouts of RFC 6109 §4.2 and §4.4.
const (
	LayoutGiorno = "02/01/2006"
	LayoutOra    = "15:04:05"
	LayoutZona   = "-0700"
)

// DataOf renders t as the daticert data element, in Italian legal time.
func DataOf(t time.Time) Data {
	l := t.In(Rome)
	return Data{Zona: l.Format(LayoutZona), Giorno: l.Format(LayoutGiorno), Ora: l.Format(LayoutOra)}
}

// TextInstant renders t as the human-readable text uses it (RFC 6109 §4.2,
// pec-rules A5): the day, the time and the zone in parentheses, returned apart so
// a template can word them: "15/11/2024", "18:20:38", "(+0100)".
func TextInstant(t time.Time) (giorno, ora, zona string) {
	l := t.In(Rome)
	return l.Format(LayoutGiorno), l.Format(LayoutOra), "(" + l.Format(LayoutZona) + ")"
}

// DateHeader renders t as an RFC 5322 Date in Italian legal time.
func DateHeader(t time.Time) string {
	return t.In(Rome).Format(time.RFC1123Z)
}
