package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/internal/hostile"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// hostilePeakRSS is the documented ceiling of `linkarc archive`'s peak
// resident memory in the hostile-publisher world at --concurrency 4,
// whatever the number of hostile pages (docs/fetching.md, SECURITY.md).
const hostilePeakRSS = 300 << 20

// hostileKind is one attack of issue 10 on the fetcher, as a handler and
// the reason its pages must end with.
type hostileKind struct {
	name    string
	handler http.Handler
	reason  record.Reason
}

func hostileKinds() []hostileKind {
	return []hostileKind{
		// Item 1: a million "br" codings, a 3 MB header.
		{"stacked codings", hostile.StackedCodings(1_000_000), record.ReasonTooLarge},
		// Item 3: 2,250 cookies of 4 KB per page, ~9 MB.
		{"cookie flood", hostile.CookieFlood(2250, 4000), record.ReasonTooLarge},
		// Item 10: 9.5 MB of headers.
		{"header flood", hostile.HeaderFlood(9_500_000), record.ReasonTooLarge},
		// Under the header cap: 64k codings, 192 KB (item 1's kind, past
		// the first bound), and 60 cookies of 4 KB a page (item 3's kind,
		// within the header cap: the cookie caps hold).
		{"stacked codings under the header cap", hostile.StackedCodings(64_000), record.ReasonTooComplex},
		{"cookies under the header cap", hostile.CookieFlood(60, 4000), ""},
	}
}

// TestArchiveHostilePublishers runs `linkarc archive` as a child process
// over ordinary pages beside hostile hosts (issue 10 items 1, 3 and 10),
// spread over 32 hosts, once with 16 and once with 64 hostile pages: every
// run ends, the ordinary pages are archived, each hostile page fails with
// its reason and a short error, the digest record is written, and the
// child's peak RSS stays under hostilePeakRSS, independent of the number of
// hostile pages (memory follows the pages in flight, not the batch).
func TestArchiveHostilePublishers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs linkarc twice over a hostile world")
	}
	pages := loadPages(t, 8)
	var figures []string
	peaks := map[int]int64{}
	for _, n := range []int{16, 64} {
		t.Run(fmt.Sprintf("%d hostile pages", n), func(t *testing.T) {
			peak, took := hostileRun(t, n, pages)
			peaks[n] = peak
			figures = append(figures, fmt.Sprintf("%d hostile pages: peak RSS %d MiB, %v", n, peak>>20, took.Round(100*time.Millisecond)))
		})
	}
	t.Log(figures)
	if p16, p64 := peaks[16], peaks[64]; p16 > 0 && p64 > 0 && p64 > p16+p16/4+32<<20 {
		t.Errorf("peak RSS grows with the hostile pages: %d MiB for 16, %d MiB for 64", p16>>20, p64>>20)
	}
}

// hostileRun archives n hostile pages (kinds round-robin over up to 32
// hosts) and 12 ordinary ones (4 hosts), and returns the child's peak RSS
// and wall time.
func hostileRun(t *testing.T, n int, pages []archivetest.Page) (int64, time.Duration) {
	kinds := hostileKinds()
	dir := filepath.Join(t.TempDir(), "digests")
	type item struct {
		url  string
		kind *hostileKind
	}
	var items []item
	var hosts []*archivetest.Publisher
	for h := range min(n, 32) {
		p := archivetest.StartPublisher(t, 100+h)
		k := &kinds[h%len(kinds)]
		p.SetHandler(k.handler.ServeHTTP)
		hosts = append(hosts, p)
	}
	for i := range n {
		p := hosts[i%len(hosts)]
		k := &kinds[(i%len(hosts))%len(kinds)]
		items = append(items, item{fmt.Sprintf("http://%s/hostile/%d.html", p.Host, i), k})
	}
	var good []string
	for h := range 4 {
		p := archivetest.StartPublisher(t, 140+h)
		for i := range 3 {
			good = append(good, p.Add(fmt.Sprintf("/news/%d.html", i), pages[(h*3+i)%len(pages)].HTML))
		}
	}
	var digestItems []archivetest.DigestItem
	for i, it := range items {
		digestItems = append(digestItems, archivetest.DigestItem{Title: fmt.Sprintf("Hostile %d", i), Publisher: "Hostile", Link: it.url})
	}
	for i, u := range good {
		digestItems = append(digestItems, archivetest.DigestItem{Title: fmt.Sprintf("Ordinary %d", i), Publisher: "Ordinary", Link: u})
	}
	if _, err := archivetest.WriteDigest(dir, "hostile.md", "Hostile world", time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), digestItems); err != nil {
		t.Fatal(err)
	}

	store := filepath.Join(t.TempDir(), "store")
	hwm := filepath.Join(t.TempDir(), "status")
	cmd := linkarcProcess([]string{hwmFileEnv + "=" + hwm, "GOGC="}, "archive", "--store", store, "--allow-private",
		"--concurrency", "4", "--host-interval", "10ms", "--progress", "none", "--max-retries", "0", dir)
	stderr, took := runWithin(t, cmd, 5*time.Minute)
	peak := peakRSS(t, hwm)
	t.Logf("%d hostile pages on %d hosts beside %d ordinary: %v, peak RSS %d MiB", n, len(hosts), len(good), took.Round(time.Millisecond), peak>>20)
	if code := cmd.ProcessState.ExitCode(); code != exitSomeFailed {
		t.Fatalf("exit %d, want %d\n%s", code, exitSomeFailed, stderr.String())
	}
	if peak > hostilePeakRSS {
		t.Errorf("peak RSS %d MiB, over the documented %d MiB", peak>>20, hostilePeakRSS>>20)
	}

	s, err := storage.NewLocal(store)
	if err != nil {
		t.Fatal(err)
	}
	metas := metasByURL(t, s)
	for _, u := range good {
		if m := metas[u]; m.Status != record.StatusOK {
			t.Errorf("ordinary page %s: %s/%s (%s)", u, m.Status, m.Reason, m.Error)
		}
	}
	for _, it := range items {
		m := metas[it.url]
		switch {
		case it.kind.reason == "" && m.Status == "":
			t.Errorf("%s (%s): not stored", it.url, it.kind.name)
		case it.kind.reason != "" && (m.Status != record.StatusFailed || m.Reason != it.kind.reason):
			t.Errorf("%s (%s): %s/%s (%.200s), want failed/%s", it.url, it.kind.name, m.Status, m.Reason, m.Error, it.kind.reason)
		}
		if len(m.Error) > 400 {
			t.Errorf("%s (%s): error of %d bytes in meta.json", it.url, it.kind.name, len(m.Error))
		}
	}
	entries, err := os.ReadDir(filepath.Join(store, record.DigestsPrefix))
	if err != nil || len(entries) == 0 {
		t.Errorf("no digest record written: %v", err)
	}
	return peak, took
}
