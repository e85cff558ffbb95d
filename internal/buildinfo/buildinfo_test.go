package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"

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
		if got := fromBuildInfo(bi); got != tt.want {
			t.Errorf("version of %q %v = %q, want %q", tt.main, tt.settings, got, tt.want)
		}
	}
}

func TestUserAgent(t *testing.T) {
	ua := UserAgent()
	if !strings.HasPrefix(ua, "linkarc/"+Version()+" (+https://") || !httpguts.ValidHeaderFieldValue(ua) {
		t.Errorf("UserAgent() = %q", ua)
	}
}
