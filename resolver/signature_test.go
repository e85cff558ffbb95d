package resolver

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/storage/record"
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
		// The page's only signature element is taken whatever id it names.
		{"only element, for another id", noDataP(strings.Replace(rec, `data-n-a-id="`+recID, `data-n-a-id="CBMiOTHER`, 1)), recID, 1790181872, sg, true, false},
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

func sigElem(id string, ts int, sg string) string {
	a := ""
	if id != "" {
		a = ` data-n-a-id="` + id + `"`
	}
	return fmt.Sprintf(`<div jscontroller="aLI87"%s data-n-a-ts="%d" data-n-a-sg="%s"></div>`, a, ts, sg)
}

// Issue 12: the element for the id asked for is preferred, the page's only
// signature element is the fallback, and the error says what was seen.
func TestScanPageSelection(t *testing.T) {
	const id = "CBMiWANTED"
	page := func(parts ...string) string {
		return "<!doctype html><html><head><title>Google News</title></head><body><c-wiz>" + strings.Join(parts, "") + "</c-wiz></body></html>"
	}
	tests := []struct {
		name     string
		page     string
		wantTS   int64
		fallback bool
		errHas   string // when no pair: a phrase of the error
		notHas   string // a phrase the error must not have
	}{
		{"only element, right id", page(sigElem(id, 100, "Aright")), 100, false, "", ""},
		{"only element, other id", page(sigElem("CBMiOTHER", 101, "Aother")), 101, true, "", ""},
		{"only element, no id", page(sigElem("", 102, "Anoid")), 102, false, "", ""},
		{"right id after others", page(sigElem("CBMiA", 1, "Aa"), sigElem("CBMiB", 2, "Ab"), sigElem(id, 103, "Aright")), 103, false, "", ""},
		{"right id before others", page(sigElem(id, 104, "Aright"), sigElem("CBMiA", 1, "Aa")), 104, false, "", ""},
		{"right id with padding, among others", page(sigElem("CBMiA", 1, "Aa"), sigElem(id+"==", 106, "Apadded")), 106, false, "", ""},
		{"several, none for the id", page(sigElem("CBMiA", 1, "Aa"), sigElem("CBMiB", 2, "Ab")), 0, false, "2 signature elements and none is for this link's id (they name CBMiA, CBMiB)", "--user-agent"},
		{"one good, one malformed, other ids", page(sigElem("CBMiA", 105, "Aa"), `<div data-n-a-id="CBMiB" data-n-a-ts="x" data-n-a-sg="Ab"></div>`), 105, true, "", ""},
		{"malformed only", page(`<div data-n-a-id="` + id + `" data-n-a-ts="17x" data-n-a-sg="Ab"></div>`), 0, false, "incomplete or malformed", "--user-agent"},
		{"half a pair", page(`<div data-n-a-id="` + id + `" data-n-a-sg="Ab"></div>`), 0, false, "incomplete or malformed", "--user-agent"},
		{"no element at all", page(`<div jscontroller="X"></div>`), 0, false, "no signature element at all", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := scanPage([]byte(tt.page), id)
			if tt.wantTS != 0 {
				if !info.found || info.sig.TS != tt.wantTS || info.fallback != tt.fallback {
					t.Fatalf("found %v ts %d fallback %v; want ts %d fallback %v", info.found, info.sig.TS, info.fallback, tt.wantTS, tt.fallback)
				}
				return
			}
			if info.found {
				t.Fatalf("found ts %d; want no pair", info.sig.TS)
			}
			err := info.noSignatureError()
			if err.Kind != record.ReasonNoSignature || !strings.Contains(err.Message, tt.errHas) || (tt.notHas != "" && strings.Contains(err.Message, tt.notHas)) {
				t.Errorf("error %q [%s]; want one saying %q and not %q", err.Message, err.Kind, tt.errHas, tt.notHas)
			}
		})
	}
}
