package report

import (
	"bytes"
	"net"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/pecspec/pecspec/internal/testnet"
)

// TestIndexOverLDAPBounded: an LDAP server that answers the search with a
// message without end (one huge BER sequence of tiny elements) costs the
// harness a bounded read — an error within seconds, the heap bounded —
// never all the memory it has.
func TestIndexOverLDAPBounded(t *testing.T) {
	ln := testnet.Loopback(t, func(c net.Conn) {
		c.Read(make([]byte, 4096)) // the bind or search request
		c.Write([]byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01, 0x01, 0x64, 0x84, 0x7f, 0xff, 0xff, 0x00})
		chunk := bytes.Repeat([]byte{0x04, 0x00}, 32<<10) // empty OCTET STRINGs
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	})
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	base := s[0].Value.Uint64()
	start := time.Now()
	_, err := LoadIndex("ldap://" + ln.Addr().String() + "/o=postacert")
	took := time.Since(start)
	metrics.Read(s)
	grew := int64(s[0].Value.Uint64()) - int64(base)
	t.Logf("%v, heap %+d MiB: %v", took.Round(time.Millisecond), grew>>20, err)
	if err == nil || !strings.Contains(err.Error(), "more than the harness reads") {
		t.Errorf("err = %v, want the bound", err)
	}
	if took > ldapTimeout {
		t.Errorf("took %v", took)
	}
	if grew > 128<<20 {
		t.Errorf("the heap grew by %d MiB", grew>>20)
	}
}
