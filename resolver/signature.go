package resolver

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"golang.org/x/net/html"
)

// signature is what Step 1 extracts from the article page: the timestamp
// and signature Step 2 must present with the id. They change on every fetch
// and are never cached.
type signature struct {
	TS int64
	SG string
}

// pageInfo is what a Step-1 page tells us.
type pageInfo struct {
	sig     signature
	found   bool // sig holds a complete pair
	consent bool // the page is Google's "Before you continue" consent wall
}

// scanPage reads a Step-1 page (spec §3.4). The pair must come from one
// element that carries both data-n-a-ts and data-n-a-sg, in either order;
// the c-wiz data-p attribute, which repeats both at its end, is the
// fallback. Matches inside comments, scripts and styles do not count, which
// the tokenizer guarantees: it returns their content as text, never as tags.
// When the element names its id (data-n-a-id), it must be the id asked for.
func scanPage(page []byte, id string) pageInfo {
	var info pageInfo
	var fallback signature
	var haveFallback, inTitle bool
	z := html.NewTokenizer(bytes.NewReader(page))
	for {
		switch z.Next() {
		case html.ErrorToken:
			if !info.found && haveFallback {
				info.sig, info.found = fallback, true
			}
			return info
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			inTitle = string(name) == "title"
			if !hasAttr {
				continue
			}
			var ts, sg, aid, dataP, action string
			var hasTS, hasSG, hasID bool
			for more := true; more; {
				var k, v []byte
				k, v, more = z.TagAttr()
				switch string(k) {
				case "data-n-a-ts":
					ts, hasTS = string(v), true
				case "data-n-a-sg":
					sg, hasSG = string(v), true
				case "data-n-a-id":
					aid, hasID = string(v), true
				case "data-p":
					dataP = string(v)
				case "action":
					action = string(v)
				}
			}
			if strings.Contains(action, "consent.google.com/save") || (string(name) == "form" && strings.HasSuffix(action, "/save")) {
				info.consent = true
			}
			if hasTS && hasSG && (!hasID || id == "" || aid == id) && !info.found {
				if s, ok := makeSignature(ts, sg); ok {
					info.sig, info.found = s, true
				}
			}
			if dataP != "" && !haveFallback {
				fallback, haveFallback = signatureFromDataP(dataP, id)
			}
		case html.EndTagToken:
			inTitle = false
		case html.TextToken:
			if inTitle && strings.HasPrefix(strings.TrimSpace(string(z.Text())), "Before you continue") {
				info.consent = true
			}
		}
	}
}

// makeSignature validates a pair: ts all digits (a Unix time), sg a short
// printable token.
func makeSignature(ts, sg string) (signature, bool) {
	if ts == "" || len(ts) > 12 || strings.Trim(ts, "0123456789") != "" {
		return signature{}, false
	}
	if sg == "" || len(sg) > 1024 || hasControl(sg) {
		return signature{}, false
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return signature{}, false
	}
	return signature{TS: n, SG: sg}, true
}

// signatureFromDataP reads the pair from the end of the c-wiz data-p
// attribute: "%.@.[<ctx>,"<id>",1,1,null,false,<ts>,"<sg>"]".
func signatureFromDataP(v, id string) (signature, bool) {
	rest, ok := strings.CutPrefix(v, "%.@.")
	if !ok {
		return signature{}, false
	}
	// Google's "%.@." prefix stands for the array's opening bracket; accept
	// a complete array too.
	var arr []json.RawMessage
	if json.Unmarshal([]byte("["+rest), &arr) != nil && json.Unmarshal([]byte(rest), &arr) != nil {
		return signature{}, false
	}
	if len(arr) < 4 {
		return signature{}, false
	}
	var gotID string
	if json.Unmarshal(arr[1], &gotID) != nil || (id != "" && gotID != id) {
		return signature{}, false
	}
	var sg string
	var ts json.Number
	dec := json.NewDecoder(bytes.NewReader(arr[len(arr)-2]))
	dec.UseNumber()
	if dec.Decode(&ts) != nil || json.Unmarshal(arr[len(arr)-1], &sg) != nil {
		return signature{}, false
	}
	return makeSignature(ts.String(), sg)
}
