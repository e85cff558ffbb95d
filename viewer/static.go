package viewer

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

//go:embed static
var staticFS embed.FS

// staticFiles serves the embedded stylesheet and icon under names that
// carry a hash of their content ("style.3f2a9c1e.css"), so browsers may
// cache them forever and still see a new version at once.
type staticFiles struct {
	notFound http.HandlerFunc
	byName   map[string]staticFile // hashed name -> file
	hashed   map[string]string     // plain name -> hashed name
}

type staticFile struct {
	body        []byte
	contentType string
	etag        string
}

func newStaticFiles() (*staticFiles, error) {
	sf := &staticFiles{byName: map[string]staticFile{}, hashed: map[string]string{}}
	entries, err := fs.ReadDir(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("static files: %w", err)
	}
	for _, e := range entries {
		body, err := staticFS.ReadFile("static/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("static files: %w", err)
		}
		sum := sha256.Sum256(body)
		h := hex.EncodeToString(sum[:4])
		ext := path.Ext(e.Name())
		name := strings.TrimSuffix(e.Name(), ext) + "." + h + ext
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
		sf.byName[name] = staticFile{body: body, contentType: ct, etag: strconv.Quote(h)}
		sf.hashed[e.Name()] = name
	}
	return sf, nil
}

// path is the URL path of a static file by its plain name.
func (sf *staticFiles) path(name string) string { return "/static/" + sf.hashed[name] }

func (sf *staticFiles) serve(w http.ResponseWriter, r *http.Request) {
	f, ok := sf.byName[r.PathValue("file")]
	if !ok {
		sf.notFound(w, r)
		return
	}
	sf.write(w, r, f, "public, max-age=31536000, immutable")
}

// favicon answers browsers that ask for /favicon.ico regardless of the
// page's icon link.
func (sf *staticFiles) favicon(w http.ResponseWriter, r *http.Request) {
	sf.write(w, r, sf.byName[sf.hashed["icon.svg"]], "public, max-age=86400")
}

func (sf *staticFiles) write(w http.ResponseWriter, r *http.Request, f staticFile, cache string) {
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", cache)
	h.Set("ETag", f.etag)
	if r.Header.Get("If-None-Match") == f.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(f.body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(f.body)
}
