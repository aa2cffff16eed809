package compose

import (
	"bufio"
	"fmt"
	"io"

	"github.com/pecspec/pecspec/pec/smime"
	"github.com/pecspec/pecspec/reference/spool"
	"github.com/pecspec/pecspec/reference/txlog"
)

// Large is the size from which a message is composed into a spool file,
// streamed, instead of in memory: below it a message is built in memory as
// fast as ever; above it memory per message is a few buffers, whatever its
// size (issue "streamed from disk").
const Large = 1 << 20

// headMax bounds a composed message's header read back for its Message-ID.
const headMax = 1 << 20

// SignTo is Sign streaming into a spool file (the CMS hash computed while
// the content is written), made durable: what SignTo returns may be
// handed over by rename.
func (s *Sealer) SignTo(d *spool.Dir, outer []smime.Field, body Mixed) (*spool.Message, error) {
	body.HTML = body.HTML || s.HTML
	w, err := d.Create()
	if err != nil {
		return nil, err
	}
	if err := smime.SignTo(w, outer, body.Write, s.Cert, s.Key); err != nil {
		w.Abort()
		return nil, fmt.Errorf("compose: sign: %w", err)
	}
	return w.Commit()
}

// SealEventTo is SealEvent streaming into a spool file (a notice carrying a
// large original: a ricevuta di consegna completa).
func (s *Sealer) SealEventTo(d *spool.Dir, n Notice, ev txlog.Event, provider string) (*spool.Message, *txlog.Record, error) {
	outer, body, err := s.notice(n)
	if err != nil {
		return nil, nil, err
	}
	msg, err := s.SignTo(d, outer, body)
	if err != nil {
		return nil, nil, err
	}
	head, err := msg.Head(headMax)
	if err != nil {
		msg.Release()
		return nil, nil, err
	}
	return msg, eventRecord(n, ev, provider, head), nil
}

// IsASCII reports whether r yields 7-bit bytes only (read to its end).
func IsASCII(r io.Reader) (bool, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	ascii := true
	for {
		chunk, err := br.ReadSlice('\n')
		ascii = ascii && isASCII(chunk)
		if err == io.EOF {
			return ascii, nil
		}
		if err != nil && err != bufio.ErrBufferFull {
			return false, err
		}
	}
}
