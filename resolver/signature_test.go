package resolver

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Spec §7 case 5: the pair is read from the recorded page verbatim, and only
// from one real element.
func TestScanPage(t *testing.T) {
	page, err := os.ReadFile(filepath.Join(fixtures, "rss-articles-page.2026-09-23.html"))
	if err != nil {
		t.Fatal(err)
	}
	const recID = "CBMiswFBVV95cUxPWjBhV01rbEcwcTJwZjdTbjF1ekxtTnZiRzc2b3p3d1NRVjZZWEUyM0gtQlFPeXBWX0hRdlVpMS11d01GVHpiQmdVY1FlN3dIZUQ4eDRTcTZBRFJxYjRMeVp3eWg5M0Q1YWw5a2N3cEhOUHlhOWRxNmZQTjVLenl2MjRrSENSaUYyTkFhc0ZNdnNoNnN0VXZOM2NhRGRLOWcyUEtXUk9wbThsdXBzc1ZYQW5iRQ"
	const ts, sg = "1790181872", "Ae5Wzi-zTr7BmTsy16W2E8ubaTXt"
	pair := `data-n-a-ts="` + ts + `" data-n-a-sg="` + sg + `"`
	if !strings.Contains(string(page), pair) {
		t.Fatal("fixture does not contain the recorded pair")
	}
	// noDataP removes the data-p fallback so a case tests the element alone.
	noDataP := func(s string) string {
		i := strings.Index(s, ` data-p="`)
		j := strings.Index(s[i+9:], `"`)
		return s[:i] + s[i+9+j+1:]
	}
	rec := string(page)
	decoy := `<!-- <div data-n-a-ts="1" data-n-a-sg="AcommentDecoy"></div> --><script>var x='<div data-n-a-ts="2" data-n-a-sg="AscriptDecoy">';</script><style>/* data-n-a-ts="3" data-n-a-sg="AstyleDecoy" */</style>`
	tests := []struct {
		name    string
		page    string
		id      string
		wantTS  int64
		wantSG  string
		found   bool
		consent bool
	}{
		{"recorded page verbatim", rec, recID, 1790181872, sg, true, false},
		{"recorded page, any id", rec, "", 1790181872, sg, true, false},
		{"attribute order swapped", noDataP(strings.Replace(rec, pair, `data-n-a-sg="`+sg+`" data-n-a-ts="`+ts+`"`, 1)), recID, 1790181872, sg, true, false},
		{"decoys in comment, script and style first", strings.Replace(rec, "<head>", "<head>"+decoy, 1), recID, 1790181872, sg, true, false},
		{"only decoys", `<html><head>` + decoy + `</head><body></body></html>`, "", 0, "", false, false},
		{"pair split over two elements", noDataP(strings.Replace(rec, pair, `data-n-a-ts="`+ts+`"><span data-n-a-sg="`+sg+`"></span`, 1)), recID, 0, "", false, false},
		{"split pair, data-p fallback", strings.Replace(rec, pair, `data-n-a-ts="`+ts+`"><span data-n-a-sg="`+sg+`"></span`, 1), recID, 1790181872, sg, true, false},
		{"non-numeric ts", noDataP(strings.Replace(rec, `data-n-a-ts="`+ts, `data-n-a-ts="17901x1872`, 1)), recID, 0, "", false, false},
		{"html entities decoded", `<c-wiz><div jscontroller="aLI87" data-n-a-ts="&#49;790181872" data-n-a-sg="Ae5&#45;zi&amp;x"></div></c-wiz>`, "", 1790181872, "Ae5-zi&x", true, false},
		{"element for another id", noDataP(strings.Replace(rec, `data-n-a-id="`+recID, `data-n-a-id="CBMiOTHER`, 1)), recID, 0, "", false, false},
		{"no attributes (JS interstitial)", `<!doctype html><html><head><title>Google News</title></head><body><c-wiz><div jscontroller="X"></div></c-wiz></body></html>`, "", 0, "", false, false},
		{"consent wall", `<html><head><title>Before you continue to Google News</title></head><body><form action="https://consent.google.com/save" method="POST"></form></body></html>`, "", 0, "", false, true},
		{"empty", ``, "", 0, "", false, false},
		{"garbage", "\x00\xff<<<>>>\"'", "", 0, "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := scanPage([]byte(tt.page), tt.id)
			if info.found != tt.found || info.sig.TS != tt.wantTS || info.sig.SG != tt.wantSG || info.consent != tt.consent {
				t.Fatalf("scanPage = found %v ts %d sg %q consent %v; want %v %d %q %v",
					info.found, info.sig.TS, info.sig.SG, info.consent, tt.found, tt.wantTS, tt.wantSG, tt.consent)
			}
		})
	}
}
