package resolver

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/storage/record"
)

// The spec's framing samples (§5.5), byte for byte.
const (
	sampleA = ")]}'\n\n" + `[["wrb.fr","Fbv4je","[\"garturlres\",\"https://publisher.example.org/2026/09/23/another-story/\",1]",null,null,null,"2"],["wrb.fr","Fbv4je","[\"garturlres\",\"https://www.example-news.com/world/story-123?utm_source\\u003dgoogle\\u0026id\\u003d9\",1]",null,null,null,"1"],["di",41],["af.httprm",41,"-2764313937442103421",27]]`
	sampleB = ")]}'\n\n123\n" + `[["wrb.fr","Fbv4je","[\"garturlres\",\"https://publisher.example.org/2026/09/23/another-story/\",1]",null,null,null,"2"]]` +
		"\n153\n" + `[["wrb.fr","Fbv4je","[\"garturlres\",\"https://www.example-news.com/world/story-123?utm_source\\u003dgoogle\\u0026id\\u003d9\",1]",null,null,null,"1"]]` +
		"\n56\n" + `[["di",41],["af.httprm",41,"-2764313937442103421",27]]` + "\n25\n" + `[["e",4,null,null,373]]` + "\n"
	sampleURL1 = "https://www.example-news.com/world/story-123?utm_source=google&id=9"
	sampleURL2 = "https://publisher.example.org/2026/09/23/another-story/"
)

func TestSampleLengths(t *testing.T) {
	if len(sampleB) != 373 {
		t.Fatalf("framing-B sample is %d bytes, the spec says 373", len(sampleB))
	}
}

// Spec §7 cases 15–20, at the parser.
func TestParseBatchResponse(t *testing.T) {
	rec := func(name string) string {
		b, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	recordedURL := "https://www.reuters.com/world/middle-east/hope-progress-after-us-iran-hold-first-shuttle-talks-months-2026-09-23/"
	row := func(u, tag string) string {
		payload, _ := json.Marshal([]any{"garturlres", u, 1})
		p, _ := json.Marshal(string(payload))
		tg, _ := json.Marshal(tag)
		return `["wrb.fr","Fbv4je",` + string(p) + `,null,null,null,` + string(tg) + `]`
	}
	two := []string{"1", "2"}
	three := []string{"1", "2", "3"}
	type want struct {
		url  string
		kind record.Reason
	}
	tests := []struct {
		name    string
		body    string
		tags    []string
		want    map[string]want // tag → expected; tags not listed must be absent
		wantErr bool
	}{
		{"recorded single, framing A", rec("batchexecute-single-ok.2026-09-23.txt"), []string{singleTag},
			map[string]want{singleTag: {url: recordedURL}}, false},
		{"recorded [3] error row", rec("batchexecute-error-code3.2024-08-22.txt"), []string{singleTag},
			map[string]want{singleTag: {kind: record.ReasonRPCError}}, false},
		{"spec sample A, rows reordered, escapes", sampleA, two,
			map[string]want{"1": {url: sampleURL1}, "2": {url: sampleURL2}}, false},
		{"spec sample B", sampleB, two,
			map[string]want{"1": {url: sampleURL1}, "2": {url: sampleURL2}}, false},
		{"framing B, single, empty tag error (2026-07-31 capture)",
			")]}'\n\n96\n[[\"wrb.fr\",\"Fbv4je\",null,null,null,[3],\"\"],[\"di\",18],[\"af.httprm\",18,\"7338016033765615300\",7]]\n25\n[[\"e\",4,null,null,131]]\n",
			[]string{singleTag}, map[string]want{singleTag: {kind: record.ReasonRPCError}}, false},
		{"framing A, single, empty tag", ")]}'\n\n[" + row(sampleURL2, "") + `,["di",38]]`, []string{singleTag},
			map[string]want{singleTag: {url: sampleURL2}}, false},
		{"framing A, single, no tag slot", ")]}'\n\n[[\"wrb.fr\",\"Fbv4je\",\"[\\\"garturlres\\\",\\\"https://a.example/x\\\"]\"]]", []string{singleTag},
			map[string]want{singleTag: {url: "https://a.example/x"}}, false},
		{"batch ignores empty tag", ")]}'\n\n[" + row(sampleURL2, "") + "," + row(sampleURL1, "1") + "]", two,
			map[string]want{"1": {url: sampleURL1}}, false},
		{"partial: [3] row, missing row, conflicting duplicate", ")]}'\n\n[" + row(sampleURL1, "3") + `,["wrb.fr","Fbv4je",null,null,null,[3],"1"],` +
			row(sampleURL2, "3") + "," + row("https://ok.example/", "2") + "]", []string{"1", "2", "3", "4"},
			map[string]want{"1": {kind: record.ReasonRPCError}, "2": {url: "https://ok.example/"}, "3": {kind: record.ReasonParse}}, false},
		{"identical duplicate is fine", ")]}'\n\n[" + row(sampleURL1, "1") + "," + row(sampleURL1, "1") + "]", two,
			map[string]want{"1": {url: sampleURL1}}, false},
		{"unknown tags and other rpcs ignored", ")]}'\n\n[" + row(sampleURL1, "7") + `,["wrb.fr","Other","[\"x\"]",null,null,null,"1"]]`, two,
			map[string]want{}, false},
		{"javascript: url refused", ")]}'\n\n[" + row("javascript:alert(1)", "1") + "]", two,
			map[string]want{"1": {kind: record.ReasonParse}}, false},
		{"CRLF url refused", ")]}'\n\n[" + row("https://a.example/\r\nSet-Cookie: x=y", "1") + "]", two,
			map[string]want{"1": {kind: record.ReasonParse}}, false},
		{"news.google.com url refused", ")]}'\n\n[" + row("https://news.google.com/rss/articles/CBMiAA", "1") + "," + row("https://consent.google.com/ml?continue=x", "2") + "]", two,
			map[string]want{"1": {kind: record.ReasonParse}, "2": {kind: record.ReasonParse}}, false},
		{"payload not garturlres", ")]}'\n\n[[\"wrb.fr\",\"Fbv4je\",\"[\\\"other\\\",\\\"https://a.example/\\\"]\",null,null,null,\"1\"]]", two,
			map[string]want{"1": {kind: record.ReasonParse}}, false},
		{"payload not JSON", ")]}'\n\n[[\"wrb.fr\",\"Fbv4je\",\"{{{\",null,null,null,\"1\"]]", two,
			map[string]want{"1": {kind: record.ReasonParse}}, false},
		{"payload a number", ")]}'\n\n[[\"wrb.fr\",\"Fbv4je\",5,null,null,null,\"1\"]]", two,
			map[string]want{"1": {kind: record.ReasonParse}}, false},
		{"transport error row only", ")]}'\n\n103\n[[\"er\",null,null,null,null,400,null,null,null,3],[\"di\",11],[\"af.httprm\",10,\"1\",16]]\n25\n[[\"e\",4,null,null,139]]\n", two,
			map[string]want{}, false},
		{"no guard", `[["wrb.fr","Fbv4je","[\"garturlres\",\"https://a.example/\",1]",null,null,null,"1"]]`, two, nil, true},
		{"empty body", "", two, nil, true},
		{"html error page", "<!DOCTYPE html><title>Error</title>", two, nil, true},
		{"guard only", ")]}'", two, map[string]want{}, false},
		{"garbage after a good row", ")]}'\n\n[" + row(sampleURL1, "1") + "]\n{garbage", two,
			map[string]want{"1": {url: sampleURL1}}, true},
		{"truncated framing B", ")]}'\n\n123\n[[\"wrb.fr\",\"Fbv4je\",\"[\\\"garturlres\\\",\\\"https://a.", three, map[string]want{}, true},
		{"string value", ")]}'\n\n\"hello\"", two, map[string]want{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseBatchResponse([]byte(tt.body), tt.tags)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if tt.want == nil {
				if got != nil {
					t.Fatalf("got %v, want nothing", got)
				}
				return
			}
			for _, tag := range tt.tags {
				w, expected := tt.want[tag]
				g, present := got[tag]
				switch {
				case !expected && present:
					t.Errorf("tag %s: got %+v, want no entry", tag, g)
				case expected && !present:
					t.Errorf("tag %s: missing, want %+v", tag, w)
				case !expected:
				case w.url != "" && (g.URL != w.url || g.Err != nil):
					t.Errorf("tag %s: got URL %q err %v, want %q", tag, g.URL, g.Err, w.url)
				case w.kind != "" && (g.Err == nil || g.Err.Kind != w.kind || g.URL != ""):
					t.Errorf("tag %s: got URL %q err %v, want kind %s", tag, g.URL, g.Err, w.kind)
				}
			}
		})
	}
}

// Spec §4.2: three levels of arrays, the inner payload a JSON string, ts a
// bare number, tags "generic" for one and "1".."n" for many.
func TestBuildBatchBody(t *testing.T) {
	reqs := []rpcRequest{
		{ID: briefIDs[0], Sig: signature{TS: 1790181872, SG: `Ae5Wzi8kQp0Xr2LmN4sT7vYb1HcD`}},
		{ID: briefIDs[1], Sig: signature{TS: 1790181874, SG: `A"],["evil`}},
	}
	for _, n := range []int{1, 2} {
		tags := batchTags(n)
		body, err := buildBatchBody(reqs[:n], tags)
		if err != nil {
			t.Fatal(err)
		}
		form, err := url.ParseQuery(body)
		if err != nil {
			t.Fatal(err)
		}
		var outer [][][]json.RawMessage
		if err := json.Unmarshal([]byte(form.Get("f.req")), &outer); err != nil {
			t.Fatalf("f.req is not three levels of arrays: %v", err)
		}
		if len(outer) != 1 || len(outer[0]) != n {
			t.Fatalf("got %d×%d envelopes, want 1×%d", len(outer), len(outer[0]), n)
		}
		for i, env := range outer[0] {
			var rpc, inner, tag string
			if len(env) != 4 || json.Unmarshal(env[0], &rpc) != nil || json.Unmarshal(env[1], &inner) != nil ||
				string(env[2]) != "null" || json.Unmarshal(env[3], &tag) != nil {
				t.Fatalf("envelope %d = %s", i, env)
			}
			if rpc != rpcID || tag != tags[i] {
				t.Errorf("envelope %d: rpc %q tag %q", i, rpc, tag)
			}
			var a []json.RawMessage
			if err := json.Unmarshal([]byte(inner), &a); err != nil || len(a) != 5 {
				t.Fatalf("inner %q: %v", inner, err)
			}
			var name, id, sg string
			_ = json.Unmarshal(a[0], &name)
			_ = json.Unmarshal(a[2], &id)
			_ = json.Unmarshal(a[4], &sg)
			if name != "garturlreq" || id != reqs[i].ID || sg != reqs[i].Sig.SG || string(a[3]) != "1790181872" && string(a[3]) != "1790181874" {
				t.Errorf("inner = %s", inner)
			}
		}
	}
	if got := batchTags(1); len(got) != 1 || got[0] != "generic" {
		t.Errorf("batchTags(1) = %q", got)
	}
	if got := batchTags(3); strings.Join(got, ",") != "1,2,3" {
		t.Errorf("batchTags(3) = %q", got)
	}
}
