// Package memory gives back the memory of large messages as soon as their
// SMTP transaction is over, so that the next large message reuses it instead
// of adding to the peak (issue "every PEC flow": a 50 MB message goes through
// with bounded memory).
package memory

import (
	"bytes"
	"runtime/debug"
)

// Large is the size from which a message's buffer is released at once.
const Large = 8 << 20

// Release drops buf's storage; when it held a large message it also runs the
// collector and returns the freed pages to the system (debug.FreeOSMemory).
// Without it a large message's buffers stay in the heap as garbage until the
// next collection, which the next large allocation triggers only after it
// has taken fresh memory: measured, a provider that had signed a 50 MB
// envelope peaked at 171 MiB when the 50 MB receipt came back, 120 MiB with it.
func Release(buf *bytes.Buffer) {
	large := buf.Cap() >= Large
	*buf = bytes.Buffer{}
	if large {
		debug.FreeOSMemory()
	}
}
