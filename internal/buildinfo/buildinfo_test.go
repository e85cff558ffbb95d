package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http/httpguts"
)

func TestFromBuildInfo(t *testing.T) {
	setting := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i+1 < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	const rev = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		main     string
		settings []debug.BuildSetting
		want     string
	}{
		{"v1.2.0", setting("vcs.revision", rev), "v1.2.0"},
		{"v0.0.0-20260101000000-0123456789ab", nil, "v0.0.0-20260101000000-0123456789ab"},
		{"(devel)", setting("vcs.revision", rev, "vcs.modified", "false"), "devel+0123456789ab"},
		{"(devel)", setting("vcs.revision", rev, "vcs.modified", "true"), "devel+0123456789ab-dirty"},
		{"", setting("vcs.revision", "abc"), "devel+abc"},
		{"(devel)", nil, "devel"},
	}
	for _, tt := range tests {
		bi := &debug.BuildInfo{Main: debug.Module{Version: tt.main}, Settings: tt.settings}
		if got := fromBuildInfo(bi).Version(); got != tt.want {
			t.Errorf("version of %q %v = %q, want %q", tt.main, tt.settings, got, tt.want)
		}
	}
}

func TestFromBuildInfoFields(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20260102030405-0123456789ab+dirty"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789ab0123"}, {Key: "vcs.modified", Value: "true"},
			{Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "GOOS", Value: "plan9"}, {Key: "GOARCH", Value: "arm"}}}
	got := fromBuildInfo(bi)
	want := Info{Module: "v0.0.0-20260102030405-0123456789ab+dirty", Revision: "0123456789ab0123", Modified: true,
		Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Go: "go1.26.8", Platform: "plan9/arm"}
	if got != want {
		t.Errorf("fromBuildInfo = %+v, want %+v", got, want)
	}
}

func TestUserAgent(t *testing.T) {
	ua := UserAgent()
	if !strings.HasPrefix(ua, "linkarc/"+Version()+" (+https://") || !httpguts.ValidHeaderFieldValue(ua) {
		t.Errorf("UserAgent() = %q", ua)
	}
}
