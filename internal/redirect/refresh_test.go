package redirect

import "testing"

func TestRefreshTarget(t *testing.T) {
	for in, want := range map[string]string{
		"0; url=https://a.example/":    "https://a.example/",
		"0;URL='https://a.example/x'":  "https://a.example/x",
		`5 ; Url = "/rel"`:             "/rel",
		"0, url=https://a.example/":    "https://a.example/",
		"0;https://a.example/no-label": "https://a.example/no-label",
		"5":                            "",
		"":                             "",
		"abc; url=https://a.example/":  "",
	} {
		if got := RefreshTarget(in); got != want {
			t.Errorf("RefreshTarget(%q) = %q, want %q", in, got, want)
		}
	}
}
