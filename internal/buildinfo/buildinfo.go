// Package buildinfo says which linkarc is running: its version, read from
// the build information the Go toolchain embeds (debug.ReadBuildInfo), and
// the one User-Agent every request of linkarc's sends.
package buildinfo

import (
	"runtime/debug"
	"sync"
)

// Version is the module version the binary was built from ("v1.2.0", or a
// pseudo-version for an untagged commit fetched with go install). A binary
// built from a checkout has none; it is then "devel", followed by
// "+<first 12 hex digits of the VCS revision>" and "-dirty" for uncommitted
// changes when the toolchain recorded them (go build -buildvcs).
func Version() string { return version() }

var version = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return fromBuildInfo(bi)
})

func fromBuildInfo(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	v := "devel"
	if rev != "" {
		v += "+" + rev[:min(len(rev), 12)]
		if dirty {
			v += "-dirty"
		}
	}
	return v
}

// UserAgent is the User-Agent linkarc sends unless told otherwise,
// "linkarc/<Version> (+https://github.com/linkarc/linkarc; news link
// archiver)": it names the tool, its version and where to read about it, so
// that publishers can recognise it and, if they wish, contact or block it.
// Its first word, "linkarc", is the product token robots.txt groups are
// matched against.
func UserAgent() string {
	return "linkarc/" + Version() + " (+https://github.com/linkarc/linkarc; news link archiver)"
}
