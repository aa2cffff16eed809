package antivirus

import (
	"context"
	"errors"
	"io"
	"time"
)

// Names of the structure verdicts (Result.Signature with Limit set).
const (
	SignatureNesting = "Structure.MIMENesting.Exceeded"
	SignaturePartial = "Structure.MessagePartial"
)

// ScanMessage vouches for one message of size bytes in r: first its MIME
// structure (CheckStructure with maxDepth), then s's scan. A message too deep
// or fragmented is not sent to the scanner: it is Infected with Limit set, as
// clamd's own limit alerts are (RFC 6109 §3.1.3, §3.2.3; issue 15). r is read
// twice, from offset 0 each time: a byte slice or a spooled file.
func ScanMessage(ctx context.Context, s Scanner, r io.ReaderAt, size int64, maxDepth int) (Result, error) {
	err := CheckStructure(io.NewSectionReader(r, 0, size), maxDepth)
	switch {
	case errors.Is(err, ErrTooDeep):
		return Result{Infected: true, Limit: true, Signature: SignatureNesting}, nil
	case errors.Is(err, ErrPartial):
		return Result{Infected: true, Limit: true, Signature: SignaturePartial}, nil
	case err != nil:
		return Result{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, ScanDeadline(size))
	defer cancel()
	return s.Scan(ctx, io.NewSectionReader(r, 0, size))
}

// ScanDeadline is how long a scan of size bytes may take before the scanner
// counts as unavailable (the client gets 4xx): 5 s, plus 1 s per 4 MiB. A
// frozen clamd thus costs a small message's sender a few seconds, and a
// large message, whose first scan takes about 6 s for 50 MB here, keeps time
// for it. clamd's own MaxScanTime (60 s in the lab, above this deadline
// for any message the reference takes) is a last resort: its alert is a
// temporary failure too (clamd.go, scanTimeLimit).
func ScanDeadline(size int64) time.Duration {
	return 5*time.Second + time.Duration(size/(4<<20))*time.Second
}

// Description is the verdict in the words of the notices' errore-esteso and
// text (Italian): the virus, or why the content could not be vouched for.
func (r Result) Description() string {
	if r.Limit {
		return "contenuto non verificabile dall'antivirus (" + r.Signature + ")"
	}
	return "virus " + r.Signature
}
