// Package buildinfo says which linkarc is running: its version, read from
// the build information the Go toolchain embeds (debug.ReadBuildInfo), and
// the one User-Agent every request of linkarc's sends.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// Info is what the build information says of the running binary.
type Info struct {
	// Module is the main module's version: a release tag ("v1.2.0"), a
	// pseudo-version ("v0.0.0-20260101000000-0123456789ab", what go install
	// of a commit gives, and what Go 1.24 and later stamp a build from a
	// checkout with, "+dirty" appended for uncommitted changes), or "" when
	// the toolchain recorded none ("(devel)").
	Module string
	// Revision is the VCS commit the binary was built from (vcs.revision,
	// full length), "" when the build was not stamped (go build
	// -buildvcs=false, or a source tree outside version control).
	Revision string
	// Time is the commit's time (vcs.time); zero when unknown.
	Time time.Time
	// Modified reports uncommitted changes in the tree built (vcs.modified).
	Modified bool
	// Go is the toolchain version ("go1.26.8"); Platform "linux/amd64".
	Go, Platform string
}

// Read returns the running binary's build information.
func Read() Info { return read() }

var read = sync.OnceValue(func() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	}
	return fromBuildInfo(bi)
})

func fromBuildInfo(bi *debug.BuildInfo) Info {
	in := Info{Go: bi.GoVersion, Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		in.Module = v
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Revision = s.Value
		case "vcs.modified":
			in.Modified = s.Value == "true"
		case "vcs.time":
			in.Time, _ = time.Parse(time.RFC3339, s.Value)
		case "GOOS":
			in.Platform = s.Value + "/" + in.Platform[strings.IndexByte(in.Platform, '/')+1:]
		case "GOARCH":
			in.Platform = in.Platform[:strings.IndexByte(in.Platform, '/')+1] + s.Value
		}
	}
	return in
}

// Version is the one-word version of Info: the module version when there
// is one ("v1.2.0", or a pseudo-version that already names the revision
// and "+dirty"), else "devel", followed by "+<first 12 hex digits of the
// VCS revision>" and "-dirty" for uncommitted changes when the toolchain
// recorded them (go build -buildvcs).
func (in Info) Version() string {
	if in.Module != "" {
		return in.Module
	}
	v := "devel"
	if in.Revision != "" {
		v += "+" + in.Revision[:min(len(in.Revision), 12)]
		if in.Modified {
			v += "-dirty"
		}
	}
	return v
}

// Version is Read().Version().
func Version() string { return Read().Version() }

// UserAgent is the User-Agent linkarc sends unless told otherwise,
// "linkarc/<Version> (+https://github.com/linkarc/linkarc; news link
// archiver)": it names the tool, its version and where to read about it, so
// that publishers can recognise it and, if they wish, contact or block it.
// Its first word, "linkarc", is the product token robots.txt groups are
// matched against.
func UserAgent() string {
	return "linkarc/" + Version() + " (+https://github.com/linkarc/linkarc; news link archiver)"
}
