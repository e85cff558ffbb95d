//go:build ignore

// world.go serves the small publisher world the store in store/ was
// archived from, on 127.0.0.1:18411, and writes the digest that links to
// it (digests/prevrelease.md). Run from the module root:
//
//	go run ./testdata/prevrelease/world.go DIGEST_DIR
//
// and archive DIGEST_DIR with the earlier build while it runs (README.md
// says exactly how). It serves:
//
//   - /news/<id>.html: four pages of the extraction benchmark
//     (testdata/extraction/html/<id>.html.gz, decompressed), whose
//     reference text is in testdata/extraction/ground-truth.json;
//   - /wall.html: a consent wall (testdata/junk/consent-before-you-continue.html);
//   - /gone.html: 404;
//   - /robots.txt: 404 (everything allowed).
package main

import (
	"compress/gzip"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// Pages are the benchmark ids served, with the titles the digest gives.
var pages = []struct{ id, title string }{
	{"85439e26c41c75901820d01a13e8cea7836abb58635ea3986f71a163ab0311d3", "Benchmark article one"},
	{"14cc2a0ca59c62a8c9f205a171e9ccf4ef4cf69b0c642f51c8c65c051b39024f", "Benchmark article two"},
	{"359fee228518d55b921194561e9ca88e428df81940246f8fac7a75398377daea", "Benchmark article three"},
	{"0ec95c7261d122f304728e90c983450ef1ce1e0b423546835c397d50aaf0d0f2", "Benchmark article four"},
}

const addr = "127.0.0.1:18411"

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: go run ./testdata/prevrelease/world.go DIGEST_DIR")
	}
	var items []string
	for _, p := range pages {
		items = append(items, fmt.Sprintf(`<li><a href="http://%s/news/%s.html" target="_blank">%s</a>&nbsp;&nbsp;<font color="#6f6f6f">Loopback Times</font></li>`, addr, p.id, p.title))
	}
	items = append(items,
		fmt.Sprintf(`<li><a href="http://%s/wall.html" target="_blank">A page behind a consent wall</a>&nbsp;&nbsp;<font color="#6f6f6f">Loopback Times</font></li>`, addr),
		fmt.Sprintf(`<li><a href="http://%s/gone.html" target="_blank">A page that is gone</a>&nbsp;&nbsp;<font color="#6f6f6f">Loopback Times</font></li>`, addr))
	digest := "---\ntitle: \"Previous release fixture\"\ndate: 2026-11-20\nslug: \"previous-release-fixture\"\ncategories:\n- 'fixture'\n---\n<ol>" + strings.Join(items, "") + "</ol>\n"
	if err := os.MkdirAll(os.Args[1], 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(os.Args[1], "prevrelease.md"), []byte(digest), 0o644); err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /news/{file}", func(w http.ResponseWriter, r *http.Request) {
		id, ok := strings.CutSuffix(r.PathValue("file"), ".html")
		if !ok || strings.ContainsAny(id, "/.") {
			http.NotFound(w, r)
			return
		}
		f, err := os.Open(filepath.Join("testdata", "extraction", "html", id+".html.gz"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.Copy(w, zr)
	})
	mux.HandleFunc("GET /wall.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		http.ServeFile(w, r, filepath.Join("testdata", "junk", "consent-before-you-continue.html"))
	})
	log.Printf("serving on http://%s/", addr)
	log.Fatal(http.ListenAndServe(addr, logged(mux)))
}

func logged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.Printf("%s %s", r.Method, r.URL)
		h.ServeHTTP(w, r)
	})
}
