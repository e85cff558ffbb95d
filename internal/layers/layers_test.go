package layers

import (
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/linkarc/linkarc/"

// rule says what the packages matching pkg may import of linkarc. A pattern
// is a module-relative path, or one ending in "/..." for a folder and
// everything under it. The first rule matching a package applies, so the
// specific rules come first; a package no rule matches is an error (put it
// on the map).
type rule struct {
	pkg   string
	allow []string
}

// arrows is the package map's "arrows point down only", as a table.
// storage/record is below every package that reads or writes the archive
// format, including the fetcher and the extractor, whose reasons are
// record.Reason values.
var arrows = []rule{
	{"cmd/...", []string{"archive", "archive/...", "resolver", "viewer", "storage", "storage/record", "internal/..."}},

	{"archive/archivetest", []string{"resolver/gnewstest", "storage", "storage/record", "internal/..."}},
	{"archive/digest", []string{"storage/record", "storage", "internal/..."}},
	// The fetcher records what crosses the wire into a capture's WARC.
	{"archive/fetch/...", []string{"archive/charset", "archive/fetch/...", "archive/warc", "storage/record", "internal/..."}},
	{"archive/requisite", []string{"internal/..."}},
	{"archive/extract", []string{"archive/charset", "storage/record", "internal/..."}},
	{"archive/charset/...", []string{"archive/charset", "internal/..."}},
	{"archive/warc/...", []string{"archive/warc", "internal/..."}},
	{"archive/wacz/wacztest", []string{"internal/..."}},
	{"archive/wacz", []string{"archive/warc", "internal/..."}},
	// Reading an archive back: the selection and a capture's page (stored),
	// and the commands built on it. export renders sites with the viewer
	// (a peer, not a layer above) and its tests parse rewritten digests
	// with archive/digest; neither imports the pipeline. Their tests write
	// archives with viewer/viewertest, which is only storage/record.
	{"archive/stored", []string{"archive/warc", "viewer/viewertest", "storage/record", "storage", "internal/..."}},
	{"archive/export", []string{"archive/stored", "archive/wacz", "archive/warc", "archive/digest", "viewer", "viewer/viewertest", "storage/record", "storage", "internal/..."}},
	// reextract builds pages again with singlepage, as the pipeline does.
	{"archive/reextract", []string{"archive/stored", "archive/extract", "archive/charset", "archive/warc", "archive/singlepage", "viewer/viewertest", "storage/record", "storage", "internal/..."}},
	// dedupe merges articles of one URL: the format and the store only.
	{"archive/dedupe", []string{"storage/record", "storage", "internal/..."}},
	// singlepage's browser test shows the page it builds in the viewer.
	{"archive/singlepage", []string{"archive/requisite", "archive/stored", "archive/warc", "archive/charset", "storage/record", "storage", "viewer", "viewer/viewertest", "internal/..."}},
	// The pipeline finds the originals of revisits with archive/stored
	// (the one resolver, as singlepage and export do).
	{"archive", []string{"archive/digest", "archive/fetch", "archive/extract", "archive/charset", "archive/warc", "archive/singlepage", "archive/requisite",
		"archive/stored", "resolver", "storage/record", "storage", "internal/..."}},

	{"resolver/gnewstest", []string{"internal/..."}},
	{"resolver", []string{"storage/record", "storage", "internal/..."}},

	{"viewer/viewertest", []string{"storage/record", "storage", "internal/..."}},
	{"viewer", []string{"storage/record", "storage", "internal/..."}},

	{"storage/storagetest", []string{"storage"}},
	{"storage/record", []string{"storage", "internal/..."}},
	{"storage", nil},

	{"internal/layers", nil},
	{"internal/...", []string{"internal/..."}},
}

// testArrows are further imports a package's tests may make, beyond its
// rule: the pipeline's end-to-end tests check what it stored with the
// command that reads it back (export a WACZ and replay it), which sits
// beside the pipeline, not below it; and the pages it did not build,
// built again by re-extraction. Re-extraction's test of a store made by
// the previous release shows every article in the viewer.
var testArrows = map[string][]string{
	"archive":           {"archive/export", "archive/wacz/wacztest", "archive/reextract", "archive/dedupe"},
	"archive/reextract": {"viewer"},
	// The test worlds' pages are checked with the pipeline's own reader of
	// requisites (a package below the pipeline).
	"archive/archivetest": {"archive/requisite"},
}

// match reports whether a module-relative path matches a pattern.
func match(pattern, pkg string) bool {
	if dir, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == dir || strings.HasPrefix(pkg, dir+"/")
	}
	return pkg == pattern
}

func ruleFor(rules []rule, pkg string) (rule, bool) {
	for _, r := range rules {
		if match(r.pkg, pkg) {
			return r, true
		}
	}
	return rule{}, false
}

func allows(r rule, imp string) bool {
	return slices.ContainsFunc(r.allow, func(p string) bool { return match(p, imp) })
}

// pkgImports is what one package imports of linkarc, by kind.
type pkgImports struct {
	imports []string // the package itself
	tests   []string // its _test.go files, in the package or beside it
}

// violations checks an import graph (module-relative paths) against rules.
//
// A package may import what its rule allows. Its tests may also import the
// package itself and test helpers ("…test" packages) of a package it may
// import or of its own: viewer's tests may use storage/storagetest, since
// viewer may import storage, but not archive/archivetest.
func violations(graph map[string]pkgImports, rules []rule) []string {
	var out []string
	pkgs := make([]string, 0, len(graph))
	for p := range graph {
		pkgs = append(pkgs, p)
	}
	slices.Sort(pkgs)
	for _, p := range pkgs {
		r, ok := ruleFor(rules, p)
		if !ok {
			out = append(out, p+": on no rule of the package map; add it where it belongs")
			continue
		}
		for _, imp := range graph[p].imports {
			if !allows(r, imp) {
				out = append(out, p+" imports "+imp)
			}
		}
		for _, imp := range graph[p].tests {
			owner := path.Dir(imp)
			helper := strings.HasSuffix(imp, "test") && (owner == p || allows(r, owner))
			if imp != p && !allows(r, imp) && !helper && !slices.Contains(testArrows[p], imp) {
				out = append(out, p+" (tests) imports "+imp)
			}
		}
	}
	return out
}

// moduleGraph lists linkarc's packages and their linkarc imports with
// go list.
func moduleGraph(t *testing.T) map[string]pkgImports {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Imports \",\"}}|{{join .TestImports \",\"}},{{join .XTestImports \",\"}}", module+"...")
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list: %v\n%s", err, stderr)
	}
	ours := func(list string) []string {
		var r []string
		for _, imp := range strings.Split(list, ",") {
			if rel, ok := strings.CutPrefix(imp, module); ok && !slices.Contains(r, rel) {
				r = append(r, rel)
			}
		}
		return r
	}
	graph := map[string]pkgImports{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		if len(f) != 3 {
			t.Fatalf("go list line %q", line)
		}
		p := strings.TrimPrefix(f[0], module)
		graph[p] = pkgImports{imports: ours(f[1]), tests: ours(f[2])}
	}
	return graph
}

// TestArrowsPointDown is the check itself.
func TestArrowsPointDown(t *testing.T) {
	graph := moduleGraph(t)
	for _, want := range []string{"storage", "storage/record", "archive", "archive/fetch", "viewer", "cmd/linkarc"} {
		if _, ok := graph[want]; !ok {
			t.Fatalf("go list did not list %s: %v", want, graph)
		}
	}
	for _, v := range violations(graph, arrows) {
		t.Error(v)
	}
}

// TestArrowsCatchUpwardImports proves the check can fail: each upward
// import the package map forbids is reported in a synthetic graph.
func TestArrowsCatchUpwardImports(t *testing.T) {
	tests := []struct {
		name  string
		graph map[string]pkgImports
		want  string // "" for no violation
	}{
		{"the store imports the format", map[string]pkgImports{"storage": {imports: []string{"storage/record"}}}, "storage imports storage/record"},
		{"the viewer imports the pipeline", map[string]pkgImports{"viewer": {imports: []string{"archive"}}}, "viewer imports archive"},
		{"the viewer imports the fetcher", map[string]pkgImports{"viewer": {imports: []string{"archive/fetch"}}}, "viewer imports archive/fetch"},
		{"the format imports the resolver", map[string]pkgImports{"storage/record": {imports: []string{"resolver"}}}, "storage/record imports resolver"},
		{"the resolver imports the pipeline", map[string]pkgImports{"resolver": {imports: []string{"archive/digest"}}}, "resolver imports archive/digest"},
		{"the fetcher imports the pipeline", map[string]pkgImports{"archive/fetch": {imports: []string{"archive"}}}, "archive/fetch imports archive"},
		{"the extractor imports the fetcher", map[string]pkgImports{"archive/extract": {imports: []string{"archive/fetch"}}}, "archive/extract imports archive/fetch"},
		{"internal imports the store", map[string]pkgImports{"internal/weburl": {imports: []string{"storage"}}}, "internal/weburl imports storage"},
		{"anything imports cmd", map[string]pkgImports{"archive": {imports: []string{"cmd/linkarc"}}}, "archive imports cmd/linkarc"},
		{"a viewer test uses the pipeline's helper", map[string]pkgImports{"viewer": {tests: []string{"archive/archivetest"}}}, "viewer (tests) imports archive/archivetest"},
		{"the pipeline imports the export", map[string]pkgImports{"archive": {imports: []string{"archive/export"}}}, "archive imports archive/export"},
		{"a package off the map", map[string]pkgImports{"elsewhere": {}}, "elsewhere: on no rule of the package map; add it where it belongs"},

		{"the pipeline imports the fetcher", map[string]pkgImports{"archive": {imports: []string{"archive/fetch", "storage/record"}}}, ""},
		{"a viewer test uses the store's helper", map[string]pkgImports{"viewer": {tests: []string{"storage/storagetest", "viewer", "viewer/viewertest"}}}, ""},
		{"a pipeline test exports what it stored", map[string]pkgImports{"archive": {tests: []string{"archive/export", "archive/wacz/wacztest"}}}, ""},
		{"cmd imports everything", map[string]pkgImports{"cmd/linkarc": {imports: []string{"archive", "archive/fetch", "viewer", "internal/buildinfo"}}}, ""},
	}
	for _, tt := range tests {
		got := violations(tt.graph, arrows)
		switch {
		case tt.want == "" && len(got) != 0:
			t.Errorf("%s: reported %q", tt.name, got)
		case tt.want != "" && !slices.Equal(got, []string{tt.want}):
			t.Errorf("%s: reported %q, want %q", tt.name, got, tt.want)
		}
	}
}
