package gnewstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Framing selects how batchexecute answers are framed (spec §5.1, §5.2).
type Framing int

const (
	// FramingAuto answers with framing B when the request has rt=c and
	// with framing A otherwise, as Google usually does.
	FramingAuto Framing = iota
	// FramingA always answers with one JSON array.
	FramingA
	// FramingB always answers with length-prefixed chunks, even without
	// rt=c (seen from Google in 2026).
	FramingB
)

// rpcEnvelope is one request of a batch after validation.
type rpcEnvelope struct {
	tag   string
	id    string
	valid bool // inner payload well formed and signature accepted
}

// errMalformed is a request Google answers with HTTP 400 and an "er" row.
type errMalformed string

func (e errMalformed) Error() string { return string(e) }

// parseBatchRequest validates a batchexecute request the way Google does:
// form content type, f.req with three levels of arrays, rpc id Fbv4je and a
// JSON string as the inner payload are required (else HTTP 400); each
// inner payload is then checked by check (else a [3] row for that tag).
func parseBatchRequest(r *http.Request, check func(id string, ts int64, sg string) bool) ([]rpcEnvelope, error) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		return nil, errMalformed("content type " + ct)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		return nil, errMalformed("body: " + err.Error())
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errMalformed("form: " + err.Error())
	}
	freq := form.Get("f.req")
	if freq == "" {
		return nil, errMalformed("no f.req")
	}
	var outer []json.RawMessage
	if err := json.Unmarshal([]byte(freq), &outer); err != nil || len(outer) == 0 {
		return nil, errMalformed("f.req is not a JSON array")
	}
	var envs [][]json.RawMessage
	if err := json.Unmarshal(outer[0], &envs); err != nil || len(envs) == 0 {
		return nil, errMalformed("f.req has fewer than three levels of arrays")
	}
	out := make([]rpcEnvelope, 0, len(envs))
	for _, env := range envs {
		var rpc, inner string
		if len(env) < 2 || json.Unmarshal(env[0], &rpc) != nil {
			return nil, errMalformed("envelope is not [rpcid, payload, …]")
		}
		if rpc != "Fbv4je" {
			return nil, errMalformed("unknown rpc id " + rpc)
		}
		if json.Unmarshal(env[1], &inner) != nil {
			return nil, errMalformed("inner payload is not a JSON string")
		}
		e := rpcEnvelope{}
		if len(env) > 3 {
			_ = json.Unmarshal(env[3], &e.tag)
		}
		e.id, e.valid = checkInner(inner, check)
		out = append(out, e)
	}
	return out, nil
}

// checkInner validates ["garturlreq", ctx, "<id>", <ts number>, "<sg>"].
func checkInner(inner string, check func(string, int64, string) bool) (id string, ok bool) {
	var a []json.RawMessage
	if json.Unmarshal([]byte(inner), &a) != nil || len(a) < 5 {
		return "", false
	}
	var name, sg string
	if json.Unmarshal(a[0], &name) != nil || name != "garturlreq" || json.Unmarshal(a[2], &id) != nil || json.Unmarshal(a[4], &sg) != nil {
		return id, false
	}
	ts, err := strconv.ParseInt(string(a[3]), 10, 64) // a bare number; a quoted one fails here
	if err != nil {
		return id, false
	}
	return id, check(id, ts, sg)
}

// googleString encodes s as a JSON string the way Google's serializer does,
// with '=' and '&' escaped as \u003d and \u0026 (spec §5.3).
func googleString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	out := strings.TrimSuffix(b.String(), "\n")
	return strings.NewReplacer("=", `\u003d`, "&", `\u0026`).Replace(out)
}

// marshal encodes without HTML escaping, as Google does.
func marshal(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSuffix(b.String(), "\n")
}

// okRow is a result row: ["wrb.fr","Fbv4je","[\"garturlres\",\"<url>\",1]",null,null,null,"<tag>"].
func okRow(publisherURL, tag string) string {
	payload := `["garturlres",` + googleString(publisherURL) + `,1]`
	return `["wrb.fr","Fbv4je",` + marshal(payload) + `,null,null,null,` + marshal(tag) + `]`
}

// errRow is an RPC error row: ["wrb.fr","Fbv4je",null,null,null,[code],"<tag>"].
func errRow(code int, tag string) string {
	return fmt.Sprintf(`["wrb.fr","Fbv4je",null,null,null,[%d],%s]`, code, marshal(tag))
}

// frameA is framing A: guard, blank line, one JSON array (no trailing newline).
func frameA(rows []string) string {
	return ")]}'\n\n[" + strings.Join(rows, ",") + "]"
}

// frameB is framing B: guard, blank line, then chunks of rows each preceded
// by its length (JSON length + 2), ending with the ["e",4,null,null,<total>]
// chunk and a newline. Each wrb.fr row gets a chunk of its own and the
// trailer rows share one, as in Google's answers.
func frameB(chunks [][]string) string {
	var b strings.Builder
	b.WriteString(")]}'\n\n")
	for _, c := range chunks {
		j := "[" + strings.Join(c, ",") + "]"
		fmt.Fprintf(&b, "%d\n%s\n", len(j)+2, j)
	}
	// The trailer counts the whole body, itself included: its length can
	// change the number of digits, so settle it by iteration.
	total := b.Len()
	for {
		e := fmt.Sprintf(`[["e",4,null,null,%d]]`, total)
		t := b.Len() + len(strconv.Itoa(len(e)+2)) + 1 + len(e) + 1
		if t == total {
			fmt.Fprintf(&b, "%d\n%s\n", len(e)+2, e)
			return b.String()
		}
		total = t
	}
}

// transportErrorBody is the HTTP 400 answer to a malformed request (spec
// §5.5), in framing B as captured.
func transportErrorBody(rnd string) string {
	return frameB([][]string{{`["er",null,null,null,null,400,null,null,null,3]`, `["di",11]`, `["af.httprm",10,` + marshal(rnd) + `,16]`}})
}
