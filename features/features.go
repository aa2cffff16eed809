// Package features embeds the Gherkin features, one file per PEC flow, so the
// pecspec binary carries the suite (STYLE 5). The Go that binds the steps is in
// scenarios/.
package features

import "embed"

// FS holds every .feature file.
//
//go:embed *.feature
var FS embed.FS
