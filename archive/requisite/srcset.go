package requisite

import (
	"strconv"
	"strings"
)

// The display a capture is made for: a desktop browser window 1280 CSS
// pixels wide at device pixel ratio 1, the most common desktop reading.
const (
	ViewportWidth = 1280
	PixelRatio    = 1.0
	fontSizePx    = 16 // 1em in media queries and sizes
)

// Candidate is one entry of a srcset attribute.
type Candidate struct {
	URL     string
	Width   int     // the w descriptor; 0 when none
	Density float64 // the x descriptor; 0 when none
}

// maxCandidates bounds the candidates read from one srcset.
const maxCandidates = 64

// ParseSrcset splits a srcset attribute into its candidates (HTML §4.8.4.3.10,
// "parse a srcset attribute"), at most 64 of them; invalid descriptors
// drop their candidate.
func ParseSrcset(s string) []Candidate {
	var out []Candidate
	for len(s) > 0 && len(out) < maxCandidates {
		s = strings.TrimLeft(s, " \t\n\r\f,")
		if s == "" {
			break
		}
		end := strings.IndexAny(s, " \t\n\r\f")
		if end < 0 {
			end = len(s)
		}
		u := s[:end]
		s = s[end:]
		if strings.HasSuffix(u, ",") {
			// A URL ending in commas has no descriptors.
			out = append(out, Candidate{URL: strings.TrimRight(u, ",")})
			continue
		}
		// Descriptors run to the next comma outside parentheses.
		depth, i := 0, 0
		for ; i < len(s); i++ {
			if c := s[i]; c == '(' {
				depth++
			} else if c == ')' && depth > 0 {
				depth--
			} else if c == ',' && depth == 0 {
				break
			}
		}
		desc := s[:i]
		s = s[i:]
		c := Candidate{URL: u}
		ok := true
		for _, d := range strings.Fields(desc) {
			if len(d) < 2 {
				ok = false
				break
			}
			num, unit := d[:len(d)-1], d[len(d)-1]
			switch unit {
			case 'w', 'W':
				n, err := strconv.Atoi(num)
				if err != nil || n <= 0 || c.Width != 0 || c.Density != 0 {
					ok = false
				}
				c.Width = n
			case 'x', 'X':
				f, err := strconv.ParseFloat(num, 64)
				if err != nil || f <= 0 || c.Width != 0 || c.Density != 0 {
					ok = false
				}
				c.Density = f
			case 'h', 'H':
				// A height descriptor is allowed beside w and changes nothing.
			default:
				ok = false
			}
		}
		if ok && u != "" {
			out = append(out, c)
		}
	}
	return out
}

// Choose returns the URL of the srcset candidate the reference display
// (ViewportWidth at PixelRatio) would pick, given the sizes attribute (""
// means 100vw), or "" when srcset has none: of the candidates whose
// density (x, or width over the slot width from sizes) is at least the
// pixel ratio, the least dense; failing that, the densest. Browsers may
// pick differently (a cached larger candidate, a data saver), but every
// engine starts from this rule (HTML §4.8.4.3.5, "select an image source").
func Choose(srcset, sizes string) string {
	cs := ParseSrcset(srcset)
	if len(cs) == 0 {
		return ""
	}
	slot := slotWidth(sizes)
	best, bestD := -1, 0.0
	above := false
	for i, c := range cs {
		d := c.Density
		switch {
		case c.Width > 0:
			d = float64(c.Width) / slot
		case d == 0:
			d = 1
		}
		switch {
		case d >= PixelRatio && (!above || d < bestD):
			best, bestD, above = i, d, true
		case !above && d > bestD:
			best, bestD = i, d
		}
	}
	return cs[best].URL
}

// slotWidth evaluates a sizes attribute for the reference viewport: the
// length of the first entry whose media condition matches; 100vw when none
// does or the attribute cannot be read.
func slotWidth(sizes string) float64 {
	entries := strings.Split(sizes, ",")
	if len(entries) > maxCandidates {
		entries = entries[:maxCandidates]
	}
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		cond, length := "", e
		if i := strings.LastIndexByte(e, ')'); i >= 0 && strings.HasPrefix(e, "(") {
			cond, length = e[:i+1], strings.TrimSpace(e[i+1:])
		}
		if cond != "" && !MediaMatches(cond) {
			continue
		}
		if px, ok := cssLength(length); ok && px > 0 {
			return px
		}
		return ViewportWidth
	}
	return ViewportWidth
}

// cssLength reads a length of sizes: px, vw, em or rem.
func cssLength(s string) (float64, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, u := range []struct {
		unit string
		px   float64
	}{{"px", 1}, {"vw", ViewportWidth / 100.0}, {"rem", fontSizePx}, {"em", fontSizePx}} {
		if num, ok := strings.CutSuffix(s, u.unit); ok {
			f, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, false
			}
			return f * u.px, true
		}
	}
	return 0, false
}

// MediaMatches evaluates a media query list for the reference display:
// "all", "screen" and the (min-|max-)width and (min-|max-)resolution
// features joined by "and", lists by commas (any may match). "print" and
// anything it cannot read do not match.
func MediaMatches(q string) bool {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return true
	}
	for _, alt := range strings.Split(q, ",") {
		if mediaAltMatches(strings.TrimSpace(alt)) {
			return true
		}
	}
	return false
}

func mediaAltMatches(q string) bool {
	not := false
	if rest, ok := strings.CutPrefix(q, "not "); ok {
		not, q = true, rest
	}
	q = strings.TrimPrefix(q, "only ")
	ok := true
	for _, part := range strings.Split(q, " and ") {
		part = strings.TrimSpace(part)
		switch part {
		case "all", "screen", "":
			continue
		}
		if !strings.HasPrefix(part, "(") || !strings.HasSuffix(part, ")") {
			return not // another media type (print, speech): no match
		}
		name, val, found := strings.Cut(part[1:len(part)-1], ":")
		if !found {
			return false
		}
		name, val = strings.TrimSpace(name), strings.TrimSpace(val)
		switch name {
		case "min-width", "max-width", "width":
			px, good := cssLength(val)
			if !good {
				return false
			}
			switch name {
			case "min-width":
				ok = ok && ViewportWidth >= px
			case "max-width":
				ok = ok && ViewportWidth <= px
			default:
				ok = ok && ViewportWidth == px
			}
		case "min-resolution", "max-resolution", "-webkit-min-device-pixel-ratio", "-webkit-max-device-pixel-ratio":
			r := parseResolution(val)
			if r <= 0 {
				return false
			}
			if strings.Contains(name, "min") {
				ok = ok && PixelRatio >= r
			} else {
				ok = ok && PixelRatio <= r
			}
		case "orientation":
			ok = ok && val == "landscape"
		case "prefers-color-scheme":
			ok = ok && val == "light"
		default:
			return false
		}
	}
	return ok != not
}

func parseResolution(v string) float64 {
	for _, u := range []struct {
		unit string
		per  float64
	}{{"dppx", 1}, {"dpi", 96}, {"x", 1}} {
		if num, ok := strings.CutSuffix(v, u.unit); ok {
			f, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0
			}
			return f / u.per
		}
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0
	}
	return f
}
