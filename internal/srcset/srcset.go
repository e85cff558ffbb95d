// Package srcset reads responsive-image markup (the srcset and sizes
// attributes, <source media>) and picks the candidate a given browser
// would load: for linkarc, a 1280-px-wide desktop at one device pixel per
// CSS pixel (Desktop). The capture fetches that candidate and the
// self-contained page (archive/singlepage) shows it; both ask this package,
// so they agree.
//
// Parsing follows the HTML standard's srcset algorithm ("parse a srcset
// attribute") closely enough for real pages; sizes and media conditions
// are evaluated for the widths they name (min-width, max-width in px, em
// or rem), and a condition this package cannot evaluate does not match.
// The sizes keyword auto (a lazy image's laid-out width) is read without
// layout, from the image's own markup (Image, SlotWidth).
// Everything is bounded: at most MaxCandidates candidates are read, each
// with at most two descriptors of 32 bytes (more make it invalid), and a
// sizes or media list is read one entry at a time, so an attribute costs
// one pass and a few hundred bytes whatever it holds (a million
// candidates, descriptors or commas). Descriptors are numbers as HTML
// reads them: "NaNx", "0x1p4x", "+2x" or an overflowing width drop their
// candidate.
package srcset

import (
	"iter"
	"math"
	"strconv"
	"strings"
)

// Desktop is the viewport linkarc captures for: 1280 CSS pixels wide, one
// device pixel per CSS pixel.
var Desktop = Viewport{Width: 1280, DPR: 1}

// Viewport is the browser a choice is made for.
type Viewport struct {
	Width int     // CSS pixels
	DPR   float64 // device pixels per CSS pixel
}

// MaxCandidates bounds the candidates Parse reads from one attribute.
const MaxCandidates = 64

// Candidate is one image candidate of a srcset.
type Candidate struct {
	URL     string  // as written (not resolved)
	Width   int     // its w descriptor, 0 when none
	Density float64 // its x descriptor, 0 when none
}

// Parse reads a srcset attribute. Candidates with invalid descriptors are
// dropped, as browsers do.
func Parse(s string) []Candidate {
	var out []Candidate
	i := 0
	for i < len(s) && len(out) < MaxCandidates {
		// Skip whitespace and commas.
		for i < len(s) && (isSpace(s[i]) || s[i] == ',') {
			i++
		}
		if i >= len(s) {
			break
		}
		start := i
		for i < len(s) && !isSpace(s[i]) {
			i++
		}
		u := s[start:i]
		var (
			descs   [maxDescriptors]string
			n       int  // descriptors read
			invalid bool // too many, or too long
		)
		if strings.HasSuffix(u, ",") {
			u = strings.TrimRight(u, ",")
		} else {
			// Descriptors up to a comma outside parentheses. Only the
			// first maxDescriptors of at most maxDescriptorBytes are
			// kept: more make the candidate invalid, whatever they say.
			depth, d := 0, -1 // d: start of the descriptor being read
			end := func(j int) {
				if d < 0 {
					return
				}
				if n == maxDescriptors || j-d > maxDescriptorBytes {
					invalid = true
				} else {
					descs[n] = s[d:j]
					n++
				}
				d = -1
			}
			for ; i < len(s); i++ {
				c := s[i]
				if c == '(' {
					depth++
				} else if c == ')' && depth > 0 {
					depth--
				}
				if c == ',' && depth == 0 {
					end(i)
					i++
					break
				}
				if isSpace(c) && depth == 0 {
					end(i)
					continue
				}
				if d < 0 {
					d = i
				}
			}
			end(i)
		}
		if u == "" || invalid {
			continue
		}
		c, ok := candidate(u, descs[:n])
		if ok {
			out = append(out, c)
		}
	}
	return out
}

// Bounds of one candidate's descriptors: a valid candidate has at most a
// width or density and a height, each a short number.
const (
	maxDescriptors     = 2
	maxDescriptorBytes = 32
)

// candidate checks a candidate's descriptors as HTML's "parse a srcset
// attribute" does (step 13): at most one w (a valid non-negative integer,
// not zero) or x (a valid floating-point number, here above zero), and an
// h only beside a w (it is otherwise ignored).
func candidate(u string, descs []string) (Candidate, bool) {
	c := Candidate{URL: u}
	height := false
	for _, d := range descs {
		if len(d) < 2 {
			return c, false
		}
		num, unit := d[:len(d)-1], d[len(d)-1]
		switch unit {
		case 'w', 'W':
			n, err := strconv.Atoi(num)
			if !allDigits(num) || err != nil || n <= 0 || c.Width != 0 || c.Density != 0 {
				return c, false
			}
			c.Width = n
		case 'x', 'X':
			if !validFloat(num) || c.Width != 0 || c.Density != 0 || height {
				return c, false
			}
			f, err := strconv.ParseFloat(num, 64)
			if err != nil || f <= 0 || math.IsInf(f, 0) || math.IsNaN(f) {
				return c, false
			}
			c.Density = f
		case 'h', 'H':
			if !allDigits(num) || height || c.Density != 0 {
				return c, false
			}
			height = true
		default:
			return c, false
		}
	}
	if height && c.Width == 0 {
		return c, false
	}
	return c, true
}

// allDigits reports whether s is one or more ASCII digits.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// validFloat reports whether s is a valid floating-point number (HTML
// §2.3.4.3): an optional "-", digits, or digits with a fraction, or a
// fraction alone, then an optional exponent. ParseFloat alone would take
// "NaN", "Inf", "0x1p4", "+1" and "1_0".
func validFloat(s string) bool {
	s = strings.TrimPrefix(s, "-")
	mant, exp, hasExp := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, hasFrac := strings.Cut(mant, ".")
	if hasFrac && !allDigits(frac) || intPart != "" && !allDigits(intPart) || intPart == "" && !hasFrac {
		return false
	}
	if hasExp {
		exp = strings.TrimPrefix(strings.TrimPrefix(exp, "-"), "+")
		return allDigits(exp)
	}
	return true
}

// Choose returns the candidate a browser with viewport v would load from
// srcset cands with the sizes attribute sizes of img (used with w
// descriptors; see SlotWidth), and fallback, the src attribute ("" for none), which counts as a 1x
// candidate unless one is already 1x or the srcset has width descriptors
// (HTML's "update the source set"). It returns "" when there is nothing
// to load. A browser picks the candidate with the smallest density at least
// v.DPR, else the densest; so does Choose.
func Choose(cands []Candidate, sizes string, img Image, fallback string, v Viewport) string {
	if v.Width <= 0 {
		v = Desktop
	}
	if v.DPR <= 0 {
		v.DPR = 1
	}
	type dc struct {
		url string
		d   float64
	}
	var list []dc
	slot := 0.0
	has1x, hasW := false, false
	for _, c := range cands {
		switch {
		case c.Width > 0:
			hasW = true
			if slot == 0 {
				slot = SlotWidth(sizes, img, v)
			}
			list = append(list, dc{c.URL, float64(c.Width) / slot})
		case c.Density > 0:
			list = append(list, dc{c.URL, c.Density})
			has1x = has1x || c.Density == 1
		default:
			list = append(list, dc{c.URL, 1})
			has1x = true
		}
	}
	if fallback != "" && !has1x && !hasW {
		list = append(list, dc{fallback, 1})
	}
	if len(list) == 0 {
		return ""
	}
	best := -1
	for i, c := range list {
		if c.d >= v.DPR && (best < 0 || list[best].d < v.DPR || c.d < list[best].d) {
			best = i
		}
	}
	if best < 0 {
		for i, c := range list {
			if best < 0 || c.d > list[best].d {
				best = i
			}
		}
	}
	return list[best].url
}

// SlotWidth evaluates a sizes attribute of img for viewport v: the length
// of its first entry whose media condition matches, else its last entry
// (which has none), else 100vw. Lengths in px, em, rem (16 px) and vw are
// understood; another length counts as 100vw.
//
// The keyword auto (an entry of its own; behind a media condition it is
// invalid and skipped) is what the reference browser, Chromium, makes of
// it as far as markup tells (checked in Chromium 148; HTML's sizes
// attribute, "auto"): on a lazy img, the img's width when its markup gives
// it (img.Width), else the entries after auto, which the page's author
// gave for browsers without auto support, else 100vw; on an img that is
// not lazy, 100vw: Chromium then takes the viewport's width, not the
// entries after auto (as the standard would).
func SlotWidth(sizes string, img Image, v Viewport) float64 {
	for entry := range splitTop(sizes, ',') {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		cond, length := splitSizeEntry(entry)
		if strings.EqualFold(length, "auto") {
			switch {
			case cond != "":
				continue
			case !img.Lazy:
				return float64(v.Width)
			case img.Width > 0:
				return img.Width
			}
			continue // the entries after it stand for it
		}
		if cond != "" && !MediaMatches(cond, v) {
			continue
		}
		if w, ok := parseLength(length, v); ok && w > 0 {
			return w
		}
		return float64(v.Width)
	}
	return float64(v.Width)
}

// Image is what a sizes attribute's auto keyword needs to know of the img
// element it belongs to (HTML "parse a sizes attribute", step 3.3: auto
// is the img's concrete width, when the img allows auto-sizes). The zero
// Image is an img that is not lazy.
type Image struct {
	// Lazy: the img's loading attribute is "lazy". Browsers honour auto
	// for lazy images only: layout is known before those load.
	Lazy bool
	// Width is the img's width in CSS pixels as its own markup sets it
	// (ImageOf), 0 when it does not: linkarc runs no layout, so CSS from
	// stylesheets is not seen.
	Width float64
}

// ImageOf reads an img's Image from its loading, style and width
// attributes ("" when absent) for viewport v. The width is the style
// attribute's width declaration (the last one, in px, em, rem or vw),
// else the width attribute read as HTML's "rules for parsing dimension
// values" do ("300" and "300px" are 300; a percentage or 0 is no width):
// a style attribute overrides the attribute, as in the cascade.
func ImageOf(loading, style, width string, v Viewport) Image {
	img := Image{Lazy: strings.EqualFold(loading, "lazy")}
	if w, ok := styleWidth(style, v); ok {
		img.Width = w
	} else {
		img.Width = dimension(width)
	}
	return img
}

// styleWidth is the width a style attribute declares, if it is a length
// parseLength reads; the last declaration wins, as in CSS.
func styleWidth(style string, v Viewport) (float64, bool) {
	w, found := 0.0, false
	for decl := range splitTop(style, ';') {
		name, val, ok := strings.Cut(decl, ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "width") {
			continue
		}
		val = strings.TrimSpace(val)
		if i := strings.IndexByte(val, '!'); i >= 0 {
			val = strings.TrimSpace(val[:i]) // !important
		}
		if l, ok := parseLength(val, v); ok && l > 0 {
			w, found = l, true
		} else {
			found = false // a later width that is not a length wins too
		}
	}
	return w, found
}

// dimension reads a width attribute (HTML "rules for parsing dimension
// values", §2.3.4.4): leading white space, digits, an optional fraction,
// anything after ignored; a percentage or zero gives 0, unknown here.
func dimension(s string) float64 {
	s = strings.TrimLeft(s, " \t\n\r\f")
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0
	}
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j > i+1 {
			i = j
		}
	}
	if i < len(s) && s[i] == '%' {
		return 0
	}
	f, err := strconv.ParseFloat(s[:i], 64)
	if err != nil || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// HasAuto reports whether an entry of a sizes attribute is the keyword
// auto, without a media condition (the only place it counts; see
// SlotWidth).
func HasAuto(sizes string) bool {
	if !containsFold(sizes, "auto") {
		return false
	}
	for entry := range splitTop(sizes, ',') {
		if cond, length := splitSizeEntry(strings.TrimSpace(entry)); cond == "" && strings.EqualFold(length, "auto") {
			return true
		}
	}
	return false
}

// SizeContained reports whether an img with this sizes attribute gets the
// size containment of HTML's rendering section, whatever its loading: the
// UA style sheet's img:is([sizes="auto" i], [sizes^="auto," i]) { contain:
// size !important; contain-intrinsic-size: 300px 150px }. Its box then does
// not depend on the image it shows, so a page that keeps the attribute
// keeps the box (Chromium 148 applies it to images that are not lazy too).
func SizeContained(sizes string) bool {
	return strings.EqualFold(sizes, "auto") || len(sizes) >= 5 && strings.EqualFold(sizes[:5], "auto,")
}

// containsFold reports whether s contains the ASCII word w in any case.
func containsFold(s, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(w)], w) {
			return true
		}
	}
	return false
}

// splitSizeEntry splits one entry of a sizes attribute into its media
// condition ("" for none) and its length (a function such as calc(…)
// included).
func splitSizeEntry(e string) (cond, length string) {
	if strings.HasSuffix(e, ")") {
		depth, i := 0, len(e)-1
		for ; i >= 0; i-- {
			if e[i] == ')' {
				depth++
			} else if e[i] == '(' {
				if depth--; depth == 0 {
					break
				}
			}
		}
		if i < 0 {
			return "", e
		}
		j := i
		for j > 0 && (e[j-1] == '-' || e[j-1] >= 'a' && e[j-1] <= 'z' || e[j-1] >= 'A' && e[j-1] <= 'Z') {
			j--
		}
		if j == i {
			return e, "" // a condition without a length
		}
		return strings.TrimSpace(e[:j]), e[j:]
	}
	k := strings.LastIndexAny(e, " \t\n\r\f")
	if k < 0 {
		return "", e
	}
	return strings.TrimSpace(e[:k]), e[k+1:]
}

// MediaMatches evaluates a media query list (a <source media> or a sizes
// condition) for viewport v: "screen", "all", (min-width: …) and
// (max-width: …) in px, em or rem, joined by "and" and listed with commas
// (any may match). Anything else does not match, except an empty list,
// which does.
func MediaMatches(q string, v Viewport) bool {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return true
	}
	for alt := range splitTop(q, ',') {
		if queryMatches(strings.TrimSpace(alt), v) {
			return true
		}
	}
	return false
}

func queryMatches(q string, v Viewport) bool {
	if q == "" {
		return false
	}
	q = strings.TrimPrefix(q, "only ")
	for part := range strings.SplitSeq(q, " and ") {
		part = strings.TrimSpace(part)
		switch part {
		case "screen", "all":
			continue
		}
		if !strings.HasPrefix(part, "(") || !strings.HasSuffix(part, ")") {
			return false
		}
		name, val, ok := strings.Cut(part[1:len(part)-1], ":")
		if !ok {
			return false
		}
		w, ok := parseLength(strings.TrimSpace(val), v)
		if !ok {
			return false
		}
		switch strings.TrimSpace(name) {
		case "min-width":
			if float64(v.Width) < w {
				return false
			}
		case "max-width":
			if float64(v.Width) > w {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// parseLength reads a CSS length in px, em, rem or vw.
func parseLength(s string, v Viewport) (float64, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, u := range []struct {
		suffix string
		scale  float64
	}{{"px", 1}, {"rem", 16}, {"em", 16}, {"vw", float64(v.Width) / 100}} {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err != nil || f < 0 || math.IsInf(f, 0) {
				return 0, false
			}
			return f * u.scale, true
		}
	}
	if s == "0" {
		return 0, true
	}
	return 0, false
}

// splitTop yields the parts of s between seps outside parentheses, one
// at a time (a sizes attribute of a million commas is never a million
// strings at once).
func splitTop(s string, sep byte) iter.Seq[string] {
	return func(yield func(string) bool) {
		depth, start := 0, 0
		for i := 0; i < len(s); i++ {
			switch s[i] {
			case '(':
				depth++
			case ')':
				if depth > 0 {
					depth--
				}
			case sep:
				if depth == 0 {
					if !yield(s[start:i]) {
						return
					}
					start = i + 1
				}
			}
		}
		yield(s[start:])
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }
