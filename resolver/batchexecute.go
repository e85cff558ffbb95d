package resolver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/storage/record"
)

// Protocol constants of Step 2 (spec §4).
const (
	batchexecutePath = "/_/DotsSplashUi/data/batchexecute"
	rpcID            = "Fbv4je"
	singleTag        = "generic"
	responseGuard    = ")]}'"
)

// rpcContext is the opaque first argument of garturlreq. Everyone sends these
// "X" placeholders since 2024-08; Google does not check them.
const rpcContext = `[["X","X",["X","X"],null,null,1,1,"US:en",null,1,null,null,null,null,null,0,1],"X","X",1,[1,1,1],1,1,null,0,0,null,0]`

// rpcRequest is one id of a batch with the signature Step 1 found for it.
type rpcRequest struct {
	ID  string
	Sig signature
}

// batchTags returns the tags that identify the requests of a batch in the
// answer: "generic" for a lone request, "1", "2", … otherwise.
func batchTags(n int) []string {
	if n == 1 {
		return []string{singleTag}
	}
	tags := make([]string, n)
	for i := range tags {
		tags[i] = strconv.Itoa(i + 1)
	}
	return tags
}

// buildBatchBody builds the form body of a batchexecute POST: f.req is three
// levels of arrays around envelopes ["Fbv4je", "<inner JSON as a string>",
// null, "<tag>"]. Everything goes through the JSON encoder, so a hostile
// signature cannot break out of its string.
func buildBatchBody(reqs []rpcRequest, tags []string) (string, error) {
	envs := make([][]any, len(reqs))
	for i, r := range reqs {
		inner, err := json.Marshal([]any{"garturlreq", json.RawMessage(rpcContext), r.ID, r.Sig.TS, r.Sig.SG})
		if err != nil {
			return "", fmt.Errorf("encode request for %s: %w", textnorm.Shorten(r.ID, 24), err)
		}
		envs[i] = []any{rpcID, string(inner), nil, tags[i]}
	}
	freq, err := json.Marshal([][][]any{envs})
	if err != nil {
		return "", fmt.Errorf("encode batch: %w", err)
	}
	return url.Values{"f.req": {string(freq)}}.Encode(), nil
}

// rpcResult is the answer for one tag of a batch: a URL or an error.
type rpcResult struct {
	URL string
	Err *Error
}

// errNoGuard marks a body that does not start with Google's anti-XSSI line;
// such a body is an HTML error page or something else entirely.
var errNoGuard = errors.New("response does not start with )]}'")

// parseBatchResponse reads a batchexecute answer in either framing (spec
// §5.1, §5.2): after the guard line it reads successive JSON values,
// skipping the decimal chunk lengths of framing B, and collects every row.
// Rows are matched to requests by tag, never by position.
//
// The result has an entry for each tag that had a row. When the body is
// damaged part-way, rows read before the damage are still returned, together
// with the error; tags without a row are then the caller's to fail.
func parseBatchResponse(body []byte, tags []string) (map[string]rpcResult, error) {
	rest, err := stripGuard(body)
	if err != nil {
		return nil, err
	}
	single := len(tags) == 1
	want := make(map[string]bool, len(tags))
	for _, t := range tags {
		want[t] = true
	}
	out := make(map[string]rpcResult, len(tags))
	seen := make(map[string]bool, len(tags))
	dec := json.NewDecoder(bytes.NewReader(rest))
	for {
		var v json.RawMessage
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("malformed batchexecute body: %w", err)
		}
		if v[0] != '[' {
			if _, err := strconv.ParseUint(string(v), 10, 64); err == nil {
				continue // a framing-B chunk length
			}
			return out, fmt.Errorf("unexpected value %s in batchexecute body", textnorm.Shorten(string(v), 40))
		}
		var rows []json.RawMessage
		if err := json.Unmarshal(v, &rows); err != nil {
			return out, fmt.Errorf("batchexecute chunk is not an array of rows: %w", err)
		}
		for _, raw := range rows {
			tag, res, ok := parseRow(raw)
			if !ok {
				continue
			}
			if single && (tag == "" || tag == singleTag) {
				tag = tags[0]
			}
			if !want[tag] {
				continue // only the tags we sent count
			}
			if seen[tag] {
				if prev := out[tag]; prev.Err != nil || res.Err != nil || prev.URL != res.URL {
					out[tag] = rpcResult{Err: errorf(record.ReasonParse, "Google answered twice for this link with different results; not guessing which is right")}
				}
				continue
			}
			seen[tag] = true
			out[tag] = res
		}
	}
}

// stripGuard drops the ")]}'" line.
func stripGuard(body []byte) ([]byte, error) {
	b := bytes.TrimLeft(body, " \t\r\n\ufeff")
	if !bytes.HasPrefix(b, []byte(responseGuard)) {
		return nil, errNoGuard
	}
	b = b[len(responseGuard):]
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[i+1:], nil
	}
	return nil, nil
}

// parseRow reads one ["wrb.fr","Fbv4je",payload,null,null,errcode,tag] row.
// ok is false for every other row (di, af.httprm, e, er) and for rows of
// other RPCs.
func parseRow(raw json.RawMessage) (tag string, res rpcResult, ok bool) {
	var row []json.RawMessage
	if json.Unmarshal(raw, &row) != nil || len(row) < 3 {
		return "", res, false
	}
	var kind, rpc string
	if json.Unmarshal(row[0], &kind) != nil || kind != "wrb.fr" || json.Unmarshal(row[1], &rpc) != nil || rpc != rpcID {
		return "", res, false
	}
	if len(row) > 6 && string(row[6]) != "null" {
		if json.Unmarshal(row[6], &tag) != nil {
			return "", res, false
		}
	}
	var payload *string
	if json.Unmarshal(row[2], &payload) != nil {
		return tag, rpcResult{Err: errorf(record.ReasonParse, "Google's answer for this link has an unexpected shape; Google may have changed the protocol")}, true
	}
	if payload == nil {
		code := ""
		if len(row) > 5 {
			var codes []int
			if json.Unmarshal(row[5], &codes) == nil && len(codes) > 0 {
				code = strconv.Itoa(codes[0])
			}
		}
		return tag, rpcResult{Err: rpcError(code)}, true
	}
	u, err := payloadURL(*payload)
	if err != nil {
		return tag, rpcResult{Err: err}, true
	}
	return tag, rpcResult{URL: u}, true
}

func rpcError(code string) *Error {
	if code == "" {
		code = "none"
	}
	return errorf(record.ReasonRPCError,
		"Google refused to resolve this link (batchexecute error code %s); usually the signature was stale or the id is not a real article. Re-running fetches a fresh signature", code)
}

// payloadURL decodes the inner ["garturlres","<url>",1] and validates the
// URL: absolute http(s), a host, no control characters, and not a Google
// News or consent link (which would send us round in circles).
func payloadURL(payload string) (string, *Error) {
	var inner []json.RawMessage
	if err := json.Unmarshal([]byte(payload), &inner); err != nil || len(inner) < 2 {
		return "", errorf(record.ReasonParse, "Google's answer for this link is not the expected garturlres payload; Google may have changed the protocol")
	}
	var name, u string
	if json.Unmarshal(inner[0], &name) != nil || name != "garturlres" || json.Unmarshal(inner[1], &u) != nil {
		return "", errorf(record.ReasonParse, "Google's answer for this link is not the expected garturlres payload; Google may have changed the protocol")
	}
	clean, ok := cleanURL(u)
	if !ok {
		return "", errorf(record.ReasonParse, "Google's answer for this link is not a usable http(s) URL (%q); refusing it", textnorm.Shorten(u, 80))
	}
	if pu, err := url.Parse(clean); err == nil {
		if h := normHost(pu.Hostname()); h == newsHost || h == consentHost || (strings.HasSuffix(h, "google.com") && strings.HasPrefix(pu.Path, "/sorry")) {
			return "", errorf(record.ReasonParse, "Google answered with another Google link (%s) instead of the publisher's; refusing it", textnorm.Shorten(clean, 80))
		}
	}
	return clean, nil
}

// transportErrorRow extracts the status of an "er" row from a 400 answer,
// for the error message.
func transportErrorRow(body []byte) (status int, ok bool) {
	rest, err := stripGuard(body)
	if err != nil {
		return 0, false
	}
	dec := json.NewDecoder(bytes.NewReader(rest))
	for {
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			return 0, false
		}
		var rows [][]json.RawMessage
		if json.Unmarshal(v, &rows) != nil {
			continue
		}
		for _, row := range rows {
			var kind string
			if len(row) > 5 && json.Unmarshal(row[0], &kind) == nil && kind == "er" && json.Unmarshal(row[5], &status) == nil {
				return status, true
			}
		}
	}
}
