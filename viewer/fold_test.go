package viewer

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
	"github.com/linkarc/linkarc/viewer/viewertest"
)

// TestSearchFoldsAccents: a search finds a word whatever accents either
// side writes (cafe finds Café, café finds cafe, naïve finds naive in a
// title), while words of other scripts are matched as written and not
// folded into Latin ones; highlights still mark the word as written.
func TestSearchFoldsAccents(t *testing.T) {
	ctx := testContext(t)
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	put := func(slug, title, text string) {
		t.Helper()
		m := record.ArticleMeta{Slug: slug, Title: title, Publisher: "Paper", URL: "https://paper.example/" + slug,
			Status: record.StatusOK, FetchedAt: time.Date(2026, 1, 4, 0, 0, 0, 0, time.UTC)}
		if err := viewertest.PutArticle(ctx, st, viewertest.Article{Meta: m, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	put("accented", "Morning at the Café Zanzibar", "The crème brûlée was served at noon.\n")
	put("plain", "Plain words", "They met at the cafe of Ångström street, naive as ever.\n")
	put("cyrillic", "Новости дня", "Москва и Киев.\n")
	ts := httptest.NewServer(newTestServer(t, st, Options{}))
	t.Cleanup(ts.Close)
	search := func(q string) []string {
		t.Helper()
		resp, err := http.Get(ts.URL + "/api/search?q=" + url.QueryEscape(q))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var v struct {
			Hits []struct{ Slug, Snippet string }
		}
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		var got []string
		for _, h := range v.Hits {
			got = append(got, h.Slug)
		}
		slices.Sort(got)
		return got
	}
	resp, err := http.Get(ts.URL + "/search?q=brulee")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "<mark>brûlée</mark>") {
		t.Errorf("the search page does not mark brûlée as written:\n%s", page)
	}
	for _, tt := range []struct {
		q    string
		want []string
	}{
		{"cafe", []string{"accented", "plain"}},
		{"Café", []string{"accented", "plain"}},
		{"CAFÉ", []string{"accented", "plain"}},
		{"brulee", []string{"accented"}},
		{"crème", []string{"accented"}},
		{"angstrom", []string{"plain"}},
		{"naïve", []string{"plain"}},
		{"zanzibar", []string{"accented"}},
		{"Москва", []string{"cyrillic"}},
		{"новости", []string{"cyrillic"}},
		{"Moskva", nil},
	} {
		if got := search(tt.q); !slices.Equal(got, tt.want) {
			t.Errorf("q=%s: %v, want %v", tt.q, got, tt.want)
		}
	}
}
