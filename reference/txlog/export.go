package txlog

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// csvHeader is the column order of a CSV export.
var csvHeader = []string{"seq", "time", "event", "msgid", "sender", "recipients", "subject", "related",
	"provider", "tipo", "errore", "errore_esteso", "tipo_ricevuta", "consegna", "virus", "hash"}

// Export writes the records of dir that pass f to w as JSON lines ("json") or
// CSV with a header row ("csv"), after verifying the whole registro: an
// altered registro exports nothing. It returns the number of records written.
func Export(dir string, f Filter, format string, w io.Writer) (int, error) {
	if format != "json" && format != "csv" {
		return 0, fmt.Errorf("txlog: unknown export format %q (json or csv)", format)
	}
	if _, err := Verify(dir); err != nil {
		return 0, err
	}
	var cw *csv.Writer
	enc := json.NewEncoder(w)
	if format == "csv" {
		cw = csv.NewWriter(w)
		if err := cw.Write(csvHeader); err != nil {
			return 0, err
		}
	}
	n := 0
	err := Scan(dir, func(r *Record) error {
		if !f.Match(r) {
			return nil
		}
		n++
		if cw == nil {
			return enc.Encode(jsonRecord(r))
		}
		return cw.Write([]string{strconv.FormatUint(r.Seq, 10), r.Time.Format(time.RFC3339Nano), string(r.Event),
			r.MsgID, r.Sender, strings.Join(r.Recipients, " "), r.Subject, strings.Join(r.Related, " "),
			r.Provider, r.Tipo, r.Errore, r.ErroreEsteso, r.TipoRicevuta, r.Consegna, r.Virus, r.Hash})
	})
	if cw != nil {
		cw.Flush()
		if err == nil {
			err = cw.Error()
		}
	}
	return n, err
}

// jsonRecord is a record as exported in JSON, field names as in the CSV.
func jsonRecord(r *Record) map[string]any {
	m := map[string]any{"seq": r.Seq, "time": r.Time.Format(time.RFC3339Nano), "event": r.Event,
		"msgid": r.MsgID, "sender": r.Sender, "recipients": r.Recipients, "subject": r.Subject,
		"provider": r.Provider, "hash": r.Hash}
	for k, v := range map[string]string{"tipo": r.Tipo, "errore": r.Errore, "errore_esteso": r.ErroreEsteso,
		"tipo_ricevuta": r.TipoRicevuta, "consegna": r.Consegna, "virus": r.Virus} {
		if v != "" {
			m[k] = v
		}
	}
	if len(r.Related) > 0 {
		m["related"] = r.Related
	}
	return m
}
