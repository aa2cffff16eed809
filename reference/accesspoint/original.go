package accesspoint

import (
	"errors"
	"fmt"
	"io"

	"github.com/pecspec/pecspec/reference/compose"
	"github.com/pecspec/pecspec/reference/spool"
)

// headMax bounds the header of a submission held in memory (RFC 5322 sets
// none; real headers are a few kB): a longer one is refused at SMTP level.
const headMax = 1 << 20

// original is a submission as the access point reads it: its header in
// memory; its body in memory when small, else streamed from the spool file
// whenever it is needed (scan, envelope), never held whole.
type original struct {
	msg    *spool.Message
	header compose.Header
	body   []byte // the body of a small message; nil for a large one
	large  bool
	offset int64 // where the body starts in the file
}

// errHeadTooLarge is a header over headMax.
var errHeadTooLarge = errors.New("accesspoint: header too large")

// readOriginal reads sub's message: whole when below compose.Large, else its
// header only.
func readOriginal(msg *spool.Message) (*original, error) {
	o := &original{msg: msg, large: msg.Size() > compose.Large}
	if data := msg.Bytes(); data != nil && !o.large {
		o.header, o.body = compose.SplitMessage(data)
		return o, nil
	}
	if !o.large {
		f, err := msg.Open()
		if err != nil {
			return nil, err
		}
		defer f.Close()
		data := make([]byte, msg.Size())
		if _, err := f.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		o.header, o.body = compose.SplitMessage(data)
		return o, nil
	}
	head, err := msg.Head(headMax)
	if errors.Is(err, spool.ErrHeadTooLarge) {
		return nil, errHeadTooLarge
	}
	if err != nil {
		return nil, err
	}
	o.header, _ = compose.SplitMessage(head)
	o.offset = int64(len(head))
	return o, nil
}

// all opens the whole message (scan, virus store).
func (o *original) all() (spool.Reader, error) { return o.msg.Open() }

// streamedBody is the body of a large original for compose.Mixed: a reader
// from its offset, and whether it is 7-bit. close releases the file.
func (o *original) streamedBody() (r io.Reader, ascii bool, close func(), err error) {
	f, err := o.msg.Open()
	if err != nil {
		return nil, false, nil, err
	}
	ascii, err = compose.IsASCII(io.NewSectionReader(f, o.offset, o.msg.Size()-o.offset))
	if err != nil {
		f.Close()
		return nil, false, nil, fmt.Errorf("read original: %w", err)
	}
	return io.NewSectionReader(f, o.offset, o.msg.Size()-o.offset), ascii, func() { f.Close() }, nil
}
