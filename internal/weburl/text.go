package weburl

import (
	"regexp"
	"strings"
)

// Links that people paste: with or without a scheme, in any case, inside
// share text ("Title - Source (https://…)", "Title https://…",
// "<https://…>"). FindLinks is the one reader of such text, for the
// archive's URL lists, arguments and standard input and for `linkarc
// resolve`, so that both accept the same spellings.

var (
	// linkRE finds links in text: with a scheme, starting "www.", or a
	// dotted host name followed by a path ("news.google.com/read/CBMi…",
	// "example.com/story"); the path keeps a bare name ("example.com",
	// "Node.js") from being taken for a link.
	linkRE = regexp.MustCompile(`(?i)\bhttps?://[^\s<>"` + "`" + `]+|\bwww\.[^\s<>"` + "`" + `]+|\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}/[^\s<>"` + "`" + `]*`)
	// hostNameRE is a whole token that is only a host name.
	hostNameRE = regexp.MustCompile(`(?i)^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$`)
)

// Link is one link found in text.
type Link struct {
	// URL is the link as an absolute URL: scheme and host lower-cased
	// (LowerSchemeHost), "https://" put in front when the text had no
	// scheme. Path, query and fragment are kept as written.
	URL string
	// Start and End are the byte offsets of the link as written in the
	// text (without the sentence punctuation and brackets around it).
	Start, End int
	// NoScheme says the text had no scheme and https was assumed.
	NoScheme bool
}

// FindLinks returns the links in text, in order: "http://…" and
// "https://…" in any case, "www.…", and "host.tld/path" without a scheme.
// Trailing punctuation and closing brackets the link did not open are not
// part of a link ("(see https://a.example/x)." gives https://a.example/x),
// and neither is the host of an e-mail address ("me@example.com/x") or
// of a link in another scheme ("ftp://example.com/x").
func FindLinks(text string) []Link {
	var out []Link
	for _, sp := range linkRE.FindAllStringIndex(text, -1) {
		start, end := sp[0], trimLinkEnd(text, sp[0], sp[1])
		raw := text[start:end]
		l := Link{Start: start, End: end}
		if !strings.Contains(raw, "://") {
			if start > 0 && text[start-1] == '@' {
				continue // the host of an e-mail address
			}
			if strings.HasSuffix(text[:start], "://") {
				continue // a link in another scheme (ftp://host/path)
			}
			raw, l.NoScheme = "https://"+raw, true
		}
		l.URL = LowerSchemeHost(raw)
		out = append(out, l)
	}
	return out
}

// IsHostName reports whether s is only a host name ("example.com",
// "www.example.org."), which a user may have meant as a link but which is
// also a file name or a word: callers ask for the URL rather than guess.
func IsHostName(s string) bool { return hostNameRE.MatchString(s) }

// trimLinkEnd moves end back over what ends a sentence rather than a link:
// trailing punctuation, quotes, and closing brackets that the link itself
// did not open.
func trimLinkEnd(s string, start, end int) int {
	const closers, openers = ")]}>", "([{<"
	var opened, closed [4]int
	for i := start; i < end; i++ {
		if k := strings.IndexByte(openers, s[i]); k >= 0 {
			opened[k]++
		} else if k := strings.IndexByte(closers, s[i]); k >= 0 {
			closed[k]++
		}
	}
	for end > start {
		c := s[end-1]
		if strings.IndexByte(".,;:!?'\"*_", c) >= 0 {
			end--
			continue
		}
		if k := strings.IndexByte(closers, c); k >= 0 && opened[k] < closed[k] {
			closed[k]--
			end--
			continue
		}
		break
	}
	return end
}

// LowerSchemeHost lower-cases an absolute URL's scheme and host (RFC 3986
// §6.2.2.1: both are case-insensitive), leaving user info, path, query and
// fragment as they are. A string without "://" is returned unchanged.
func LowerSchemeHost(raw string) string {
	i := strings.Index(raw, "://")
	if i <= 0 {
		return raw
	}
	end := len(raw)
	if j := strings.IndexAny(raw[i+3:], "/?#"); j >= 0 {
		end = i + 3 + j
	}
	auth := raw[i+3 : end]
	user := ""
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		user, auth = auth[:at+1], auth[at+1:]
	}
	return strings.ToLower(raw[:i+3]) + user + strings.ToLower(auth) + raw[end:]
}
