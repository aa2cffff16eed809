package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/pecspec/pecspec/internal/version"
)

const versionUsage = `usage: pecspec version [--format text|json]
       pecspec --version

Print the harness's version as the Go toolchain recorded it in the binary:
the module version (a tag, or a pseudo-version), the VCS commit it was built
from, "+dirty" when the tree had uncommitted changes, the commit time and the
Go version. summary.json and report.html carry the same information.

flags:
  --format text|json   one line (default), or a JSON object

exit codes:
  0  printed
  2  usage error

example:
  pecspec version --format json
`

// cmdVersion runs `pecspec version`.
func cmdVersion(args []string) int {
	fs := newFlagSet("version")
	format := fs.String("format", "text", "text or json")
	rest, err := parseFlags(fs, args)
	switch {
	case err != nil:
		return usageError("version", err)
	case len(rest) > 0:
		return usageError("version", fmt.Errorf("unexpected argument %q", rest[0]))
	case *format != "text" && *format != "json":
		return usageError("version", fmt.Errorf("unknown format %q (text or json)", *format))
	}
	in := version.Read()
	if *format == "json" {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(in); err != nil {
			return fail("%v", err)
		}
		return exitOK
	}
	fmt.Println(in.String())
	return exitOK
}
