package resolver

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"golang.org/x/net/html"

	"github.com/linkarc/linkarc/internal/textnorm"
	"github.com/linkarc/linkarc/storage/record"
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
	captcha bool // the page is Google's "unusual traffic" CAPTCHA (see isCaptchaPage)

	// What was seen, for the error when no pair was taken.
	elements  int      // elements carrying a complete, valid pair
	otherIDs  []string // the data-n-a-id of those elements, when not the id asked for
	malformed int      // elements with only one of the pair, or unusable values
	fallback  bool     // the pair came from the page's only signature element, which names another id
}

// candidate is one element carrying a valid pair.
type candidate struct {
	sig   signature
	id    string
	hasID bool
}

// scanPage reads a Step-1 page (spec §3.4). The pair must come from one
// element that carries both data-n-a-ts and data-n-a-sg, in either order.
// The element whose data-n-a-id is the id asked for is preferred; the
// c-wiz data-p attribute naming that id, which repeats the pair at its end,
// comes next; failing both, the page's only signature element is taken
// whatever id it names (Google's page is for one article; an id spelled
// differently, or a page that stops naming it, must not fail the link).
// Several elements none of which is for the id give no pair: guessing among
// them could post another article's signature. Ids are compared without
// base64 padding ("="), which the id asked for never has. Matches inside
// comments,
// scripts and styles do not count, which the tokenizer guarantees: it
// returns their content as text, never as tags. id "" takes the first
// element.
func scanPage(page []byte, id string) pageInfo {
	var info pageInfo
	var cands []candidate
	var fromDataP signature
	var haveDataP, inTitle, inScript bool
	z := html.NewTokenizer(bytes.NewReader(page))
	for {
		switch z.Next() {
		case html.ErrorToken:
			info.pick(cands, fromDataP, haveDataP, id)
			return info
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			inTitle = string(name) == "title"
			inScript = string(name) == "script" || string(name) == "style"
			if !hasAttr {
				continue
			}
			var ts, sg, aid, dataP, action, elemID, class, src string
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
				case "id":
					elemID = string(v)
				case "class":
					class = string(v)
				case "src":
					src = string(v)
				}
			}
			if strings.Contains(action, "consent.google.com/save") || (string(name) == "form" && strings.HasSuffix(action, "/save")) {
				info.consent = true
			}
			if captchaMarkup(string(name), elemID, class, action, src) {
				info.captcha = true
			}
			switch {
			case hasTS && hasSG:
				if s, ok := makeSignature(ts, sg); ok {
					cands = append(cands, candidate{sig: s, id: aid, hasID: hasID})
				} else {
					info.malformed++
				}
			case hasTS || hasSG:
				info.malformed++
			}
			if dataP != "" && !haveDataP {
				fromDataP, haveDataP = signatureFromDataP(dataP, id)
			}
		case html.EndTagToken:
			inTitle, inScript = false, false
		case html.TextToken:
			if inTitle && strings.HasPrefix(strings.TrimSpace(string(z.Text())), "Before you continue") {
				info.consent = true
			}
			if !info.captcha && !inScript && captchaText(z.Text()) {
				info.captcha = true
			}
		}
	}
}

// pick chooses the pair among what scanPage saw (see scanPage).
func (info *pageInfo) pick(cands []candidate, fromDataP signature, haveDataP bool, id string) {
	info.elements = len(cands)
	for _, c := range cands {
		if id == "" || (c.hasID && strings.TrimRight(c.id, "=") == id) {
			info.sig, info.found = c.sig, true
			return
		}
	}
	if haveDataP {
		info.sig, info.found = fromDataP, true
		return
	}
	if len(cands) == 1 {
		info.sig, info.found, info.fallback = cands[0].sig, true, cands[0].hasID
		return
	}
	for _, c := range cands {
		if c.hasID {
			info.otherIDs = append(info.otherIDs, c.id)
		}
	}
}

// noSignatureError words why a 200 page gave no pair, by what was seen.
func (info *pageInfo) noSignatureError() *Error {
	switch {
	case info.elements > 1:
		ids := make([]string, 0, 2)
		for _, o := range info.otherIDs[:min(2, len(info.otherIDs))] {
			ids = append(ids, textnorm.Shorten(o, 24))
		}
		named := ""
		if len(ids) > 0 {
			named = " (they name " + strings.Join(ids, ", ") + ")"
		}
		return errorf(record.ReasonNoSignature,
			"the Google News page carries %s and none is for this link's id%s; linkarc does not guess which to use. "+
				"Re-running retries it; if it keeps happening, Google has changed its page: please report it", textnorm.Count(info.elements, "signature element", "signature elements"), named)
	case info.malformed > 0:
		return errorf(record.ReasonNoSignature,
			"the Google News page has a signature element, but its data-n-a-ts/data-n-a-sg pair is incomplete or malformed; "+
				"Google may have changed its page: please report it")
	}
	return errorf(record.ReasonNoSignature,
		"the Google News page for this link has no signature element at all (data-n-a-sg/data-n-a-ts): Google served its JavaScript-only page. "+
			"Try again later; Google serves that page to some User-Agents, so a browser's --user-agent may help")
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
	if json.Unmarshal(arr[1], &gotID) != nil || (id != "" && strings.TrimRight(gotID, "=") != id) {
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

// Google's "unusual traffic" page (google.com/sorry/index) is a CAPTCHA.
// A client that follows redirects, or a proxy that does (HTTPS_PROXY is
// honoured), receives it as a 200 answer in place of the article page or
// the batchexecute answer: it means rate limited, exactly as a 429 or a
// redirect to /sorry does. It is recognised by its markup, which is the
// same in every language (the form Google's sorry page posts, the
// reCAPTCHA widget and script), and by its English sentence.

// captchaMarkup reports whether one element is a part of a CAPTCHA page:
// the form with id captcha-form, a form posting to /sorry/index, the
// g-recaptcha widget, or the reCAPTCHA script or frame.
func captchaMarkup(tag, id, class, action, src string) bool {
	switch {
	case id == "captcha-form":
		return true
	case tag == "form" && (strings.Contains(action, "/sorry/index") || strings.HasPrefix(action, "sorry/index")):
		return true
	case hasField(class, "g-recaptcha"):
		return true
	case (tag == "script" || tag == "iframe") && (strings.Contains(src, "/recaptcha/api") || strings.Contains(src, "/recaptcha/enterprise")):
		return true
	}
	return false
}

// captchaText reports the English sentence of Google's sorry page.
func captchaText(text []byte) bool {
	return bytes.Contains(text, []byte("detected unusual traffic from your computer network"))
}

// isCaptchaPage reports whether body is Google's CAPTCHA page.
func isCaptchaPage(body []byte) bool { return scanPage(body, "").captcha }

// hasField reports whether the space-separated list s has f.
func hasField(s, f string) bool {
	for _, x := range strings.Fields(s) {
		if x == f {
			return true
		}
	}
	return false
}
