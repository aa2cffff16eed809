//go:build pecspecfault

package compose

import (
	"os"
	"strings"
)

// omitsRiferimento is the fault switch of a pecref built with the
// pecspecfault tag, for the test that proves the suite catches a broken
// target: with PECREF_FAULT=omit-riferimento@<domain> the instance serving
// <domain> leaves X-Riferimento-Message-ID out of its notices (breaking
// GEN-15). Binaries built without the tag have no switch at all.
func omitsRiferimento(serviceAddress string) bool {
	v, ok := strings.CutPrefix(os.Getenv("PECREF_FAULT"), "omit-riferimento@")
	return ok && v != "" && strings.HasSuffix(serviceAddress, "@"+v)
}
