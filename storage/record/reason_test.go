package record

import (
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"slices"
	"strconv"
	"testing"
)

// TestReasonsListed: every Reason constant declared in reason.go is listed
// by Reasons, once, with a meaning, and spelled as a stable machine word.
// A constant added without a meaning fails here, not in the docs.
func TestReasonsListed(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "reason.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []Reason
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Reason" {
				continue
			}
			for _, v := range vs.Values {
				lit := v.(*ast.BasicLit)
				s, _ := strconv.Unquote(lit.Value)
				declared = append(declared, Reason(s))
			}
		}
	}
	listed := Reasons()
	if len(declared) != len(listed) {
		t.Errorf("reason.go declares %d reasons, Reasons lists %d", len(declared), len(listed))
	}
	word := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	seen := map[Reason]bool{}
	for _, r := range declared {
		switch {
		case !slices.Contains(listed, r):
			t.Errorf("%q is not listed by Reasons", r)
		case seen[r]:
			t.Errorf("%q is declared twice", r)
		case r.Meaning() == "":
			t.Errorf("%q has no meaning", r)
		case !word.MatchString(string(r)):
			t.Errorf("%q is not a lower-case machine word", r)
		}
		seen[r] = true
	}
}

func TestHTTPReason(t *testing.T) {
	for _, code := range []int{404, 429, 503, 599} {
		r := HTTPReason(code)
		if got, ok := r.HTTPStatus(); !ok || got != code {
			t.Errorf("HTTPReason(%d) = %q reads back as %d, %v", code, r, got, ok)
		}
		if r.Meaning() == "" {
			t.Errorf("%q has no meaning", r)
		}
	}
	if HTTPReason(404) != "http_404" || HTTPReason(404).Meaning() != "the server answered HTTP 404 Not Found" {
		t.Errorf("HTTPReason(404) = %q: %q", HTTPReason(404), HTTPReason(404).Meaning())
	}
	for _, r := range []Reason{"", "http_", "http_4044", "http_abc", "http_099", "timeout "} {
		if _, ok := r.HTTPStatus(); ok {
			t.Errorf("%q read as an HTTP status", r)
		}
	}
	if Reason("nonsense").Meaning() != "" || Reason("connection").Meaning() != ReasonNetwork.Meaning() {
		t.Error("unknown reasons must have no meaning; former names the meaning of the current one")
	}
}
