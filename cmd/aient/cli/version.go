package cli

import (
	"fmt"
	"runtime/debug"
)

// version prints the module version and the VCS revision the binary was built from, as the
// build info records them (`go install` and `make install` record both; a build with
// -buildvcs=false or from outside a checkout has no revision).
func (c *command) version(args []string) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
		printHelp(c.stdout, "version", nil)
		return nil
	}
	if len(args) > 0 {
		return usageError("version takes no arguments")
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Fprintln(c.stdout, "aient: no build information in this binary")
		return nil
	}
	rev, at, dirty := "unknown", "", ""
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = " (" + s.Value + ")"
		case "vcs.modified":
			if s.Value == "true" {
				dirty = ", modified"
			}
		}
	}
	fmt.Fprintf(c.stdout, "aient %s %s\nrevision %s%s%s\n%s\n", info.Main.Path, info.Main.Version, rev, at, dirty, info.GoVersion)
	return nil
}
