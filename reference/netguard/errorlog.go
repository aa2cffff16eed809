package netguard

import (
	"fmt"
	"log/slog"
	"strings"
)

// ErrorLog carries a server's own error lines (go-smtp's accept errors and
// failed connections: its Server.ErrorLog, a Printf/Println logger; net/http's
// through log.New(ErrorLog{…}, "", 0)) into
// the operational log as warnings under one message, so that a flood of
// them is rate-limited like any repeated line (package ratelog) instead of
// going to stderr unbounded (issue 15: 9,496 identical lines in a flood).
type ErrorLog struct {
	Log      *slog.Logger
	Listener string
}

// Printf logs one line.
func (e ErrorLog) Printf(format string, v ...any) { e.warn(fmt.Sprintf(format, v...)) }

// Write logs p as one line: ErrorLog as the output of a *log.Logger, for
// net/http's Server.ErrorLog.
func (e ErrorLog) Write(p []byte) (int, error) {
	e.warn(string(p))
	return len(p), nil
}

// Println logs one line.
func (e ErrorLog) Println(v ...any) { e.warn(fmt.Sprintln(v...)) }

func (e ErrorLog) warn(s string) {
	if e.Log != nil {
		e.Log.Warn("server error", "listener", e.Listener, "err", strings.TrimSpace(s))
	}
}
