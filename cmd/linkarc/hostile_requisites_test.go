package main

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/jpeg"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/archive/archivetest"
	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// hostileAssets serves requisites built to hurt the capture path, by path.
func hostileAssets(t *testing.T) http.HandlerFunc {
	bigImage := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 10<<20)...)
	pngBomb := pngOfZeros(7000, 7000)                // 49 Mpx RGBA: 196 MiB decoded
	jpegBomb := progressiveJPEGHeader(t, 6000, 6000) // 36 Mpx: 700 MiB of coefficients and pixels
	var millionURLs bytes.Buffer
	for i := 0; millionURLs.Len() < 8<<20; i++ {
		fmt.Fprintf(&millionURLs, "a{background:url(/u/%d.png)}", i)
	}
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestSpeed)
	for range 64 {
		zw.Write(millionURLs.Bytes()[:1<<20])
	}
	zw.Close()
	return func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case strings.HasPrefix(p, "/big/"):
			w.Header().Set("Content-Type", "image/png")
			w.Write(bigImage)
		case p == "/bomb.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write(pngBomb)
		case p == "/bomb.jpg":
			w.Header().Set("Content-Type", "image/jpeg")
			w.Write(jpegBomb)
		case p == "/million.css":
			w.Header().Set("Content-Type", "text/css")
			w.Write(millionURLs.Bytes())
		case p == "/gzip-bomb.css":
			w.Header().Set("Content-Type", "text/css")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(bomb.Bytes())
		case p == "/2gb.png":
			w.Header().Set("Content-Type", "image/png")
			chunk := make([]byte, 256<<10)
			for sent := 0; sent < 2<<30; sent += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case strings.HasPrefix(p, "/fan/"):
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(p, "/fan/"), ".css"))
			w.Header().Set("Content-Type", "text/css")
			for k := range 500 {
				fmt.Fprintf(w, "@import \"/fan/%d.css\";\n", n*500+k+1)
			}
		case strings.HasPrefix(p, "/tarpit/"):
			w.Header().Set("Content-Type", "text/css")
			w.WriteHeader(200)
			for r.Context().Err() == nil {
				if _, err := w.Write([]byte(" ")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				time.Sleep(100 * time.Millisecond)
			}
		default:
			w.Header().Set("Content-Type", "image/png")
			w.Write(append([]byte("\x89PNG\r\n\x1a\n"), p...))
		}
	}
}

// pngOfZeros is a valid w×h RGBA PNG of zeros, compressed to little.
func pngOfZeros(w, h int) []byte {
	chunk := func(b *bytes.Buffer, typ string, data []byte) {
		binary.Write(b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		binary.Write(b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 6
	chunk(&b, "IHDR", ihdr)
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestSpeed)
	row := make([]byte, 1+4*w)
	for range h {
		zw.Write(row)
	}
	zw.Close()
	chunk(&b, "IDAT", z.Bytes())
	chunk(&b, "IEND", nil)
	return b.Bytes()
}

// progressiveJPEGHeader is a JPEG whose frame header claims w×h pixels,
// progressive, with a valid first (DC) scan header and no data to speak
// of: a decoder allocates the image and its coefficients up front.
func progressiveJPEGHeader(t *testing.T, w, h int) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewRGBA(image.Rect(0, 0, 16, 16)), nil); err != nil {
		t.Fatal(err)
	}
	j := b.Bytes()
	sof, sos := bytes.Index(j, []byte{0xff, 0xc0}), bytes.Index(j, []byte{0xff, 0xda})
	binary.BigEndian.PutUint16(j[sof+5:], uint16(h))
	binary.BigEndian.PutUint16(j[sof+7:], uint16(w))
	j[sof+1] = 0xc2
	n := int(j[sos+4])
	j[sos+5+2*n+1] = 0
	return j[:sos+5+2*n+3+8]
}

// TestArchiveHostileRequisites runs `linkarc archive --requisites` as a
// child process over ordinary articles beside articles whose requisites
// are built to hurt (issue 11's bounds): lead images that are
// decompression bombs (a 49-megapixel PNG, a 36-megapixel progressive
// JPEG header), pages naming a 10 MiB image 2,000 times (six at once, on
// six hosts), an 8 MiB stylesheet of url()s, a gzip bomb stylesheet, a
// 2 GB image, an @import fan-out of 500 per sheet, and 20 stylesheets
// trickled a byte at a time. The run ends within a bound, every article
// is archived, the caps are reported, and the child's peak RSS stays
// under hostilePeakRSS.
func TestArchiveHostileRequisites(t *testing.T) {
	if testing.Short() {
		t.Skip("runs linkarc over a hostile world")
	}
	pages := loadPages(t, 8)
	// Each shape has an asset host of its own: a host that fails three
	// requisites in a row is given up for the whole run.
	handler := hostileAssets(t)
	assetHost := func(i int) string {
		p := archivetest.StartPublisher(t, 200+i)
		p.SetHandler(handler)
		return "http://" + p.Host
	}
	ev, tp := "%[1]s", assetHost(50)
	var bigRefs, bigStyles strings.Builder
	for range 2000 {
		bigRefs.WriteString(`<img alt="" src="%[1]s/big/%[2]d.png">`)
		bigStyles.WriteString(`<div style="background:url(%[1]s/big/%[2]d.png)"></div>`)
	}
	var tarpitLinks strings.Builder
	for i := range 20 {
		fmt.Fprintf(&tarpitLinks, `<link rel=stylesheet href="%s/tarpit/%d.css">`, tp, i)
	}
	type shape struct {
		name, head, body string
		capped           string
	}
	shapes := []shape{
		{"png bomb lead image", `<meta property="og:image" content="` + ev + `/bomb.png">`, "", ""},
		{"jpeg bomb lead image", `<meta property="og:image" content="` + ev + `/bomb.jpg">`, "", ""},
		{"million url()s", `<link rel=stylesheet href="` + ev + `/million.css">`, "", "css"},
		{"gzip bomb stylesheet", `<link rel=stylesheet href="` + ev + `/gzip-bomb.css">`, "", ""},
		{"2 GB image", "", `<img alt="" src="` + ev + `/2gb.png">`, ""},
		{"import fan-out", `<link rel=stylesheet href="` + ev + `/fan/0.css">`, "", "count"},
		{"trickled stylesheets", tarpitLinks.String(), "", "failing_host"},
		{"big image in 2000 style attributes", "", strings.ReplaceAll(bigStyles.String(), "%[2]d", "100"), ""},
	}
	for i := range 6 {
		shapes = append(shapes, shape{fmt.Sprintf("big image 2000 times (%d)", i), "", strings.ReplaceAll(bigRefs.String(), "%[2]d", strconv.Itoa(i)), ""})
	}
	inject := func(page []byte, head, body string) []byte {
		s := strings.Replace(string(page), "</head>", head+"</head>", 1)
		return []byte(strings.Replace(s, "</body>", body+"</body>", 1))
	}
	var items []archivetest.DigestItem
	hostileURL := map[string]string{}
	for i, sh := range shapes {
		p := archivetest.StartPublisher(t, 160+i)
		host := assetHost(i)
		u := p.Add("/hostile.html", inject(pages[i%len(pages)].HTML, strings.ReplaceAll(sh.head, ev, host), strings.ReplaceAll(sh.body, ev, host)))
		hostileURL[sh.name] = u
		items = append(items, archivetest.DigestItem{Title: "Hostile " + sh.name, Publisher: "Hostile", Link: u})
	}
	var good []string
	for h := range 2 {
		p := archivetest.StartPublisher(t, 190+h)
		for i := range 4 {
			good = append(good, p.Add(fmt.Sprintf("/news/%d.html", i), pages[(h*4+i)%len(pages)].HTML))
			items = append(items, archivetest.DigestItem{Title: fmt.Sprintf("Ordinary %d-%d", h, i), Publisher: "Ordinary", Link: good[len(good)-1]})
		}
	}
	dir := filepath.Join(t.TempDir(), "digests")
	if _, err := archivetest.WriteDigest(dir, "hostile.md", "Hostile requisites", time.Date(2026, 1, 6, 0, 0, 0, 0, time.UTC), items); err != nil {
		t.Fatal(err)
	}

	store := filepath.Join(t.TempDir(), "store")
	hwm := filepath.Join(t.TempDir(), "status")
	cmd := linkarcProcess([]string{hwmFileEnv + "=" + hwm, "GOGC="}, "archive", "--store", store, "--allow-private", "--requisites",
		"--concurrency", "8", "--host-interval", "10ms", "--asset-interval", "1ms", "--progress", "none",
		"--max-retries", "0", "--timeout", "5s", "--read-timeout", "5s", dir)
	stderr, took := runWithin(t, cmd, 4*time.Minute)
	peak := peakRSS(t, hwm)
	t.Logf("%d hostile pages beside %d ordinary: %v, peak RSS %d MiB", len(shapes), len(good), took.Round(time.Millisecond), peak>>20)
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit %d, want 0\n%.4000s", code, stderr.String())
	}
	if peak > hostilePeakRSS {
		t.Errorf("peak RSS %d MiB, over the documented %d MiB", peak>>20, hostilePeakRSS>>20)
	}
	// Three trickled stylesheets at --timeout, then the host is given up;
	// everything else is quick.
	if limit := 90 * time.Second; took > limit {
		t.Errorf("the run took %v, over %v", took, limit)
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
	for _, sh := range shapes {
		m := metas[hostileURL[sh.name]]
		t.Logf("%s: %s, requisites %+v", sh.name, m.Status, m.Requisites)
		if m.Status != record.StatusOK {
			t.Errorf("%s: %s/%s (%.200s), want ok: the page itself is fine", sh.name, m.Status, m.Reason, m.Error)
			continue
		}
		if m.Requisites == nil || sh.capped != "" && !strings.Contains(m.Requisites.Capped, sh.capped) {
			t.Errorf("%s: requisites %+v, want capped %q", sh.name, m.Requisites, sh.capped)
		}
	}
}
