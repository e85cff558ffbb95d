package record

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxSlugLen is the longest slug, in bytes, that Slugify returns and
// ValidSlug accepts. Slugs name one path segment each (articles/<slug>/,
// digests/<slug>.json), and file systems and S3 allow 255 bytes per segment
// (storage.MaxSegmentLen): the cap is that, less the ".json" of a digest
// record, so that a digest's front-matter slug is its key whatever its
// length, and an article's slug is capped no lower (its lead article's
// slug equals the digest's).
const MaxSlugLen = 250

// LegacyMaxSlugLen is the cap of versions before MaxSlugLen was raised.
// Articles stored then keep their slugs (see LegacyArticleSlug).
const LegacyMaxSlugLen = 100

// CollisionHexLen is the number of hex digits of the SHA-256 of an
// article's identity that CollisionSlug appends: 16 (64 bits), so that a
// title made to collide with another article's suffixed slug costs a 64-bit
// preimage search. Earlier versions appended 8.
const CollisionHexLen = 16

const legacyCollisionHexLen = 8

// slugFallback is returned for input with no letters or digits at all.
const slugFallback = "untitled"

// slugLatinExtra transliterates the Latin letters that Unicode does not
// decompose into a base letter and marks.
var slugLatinExtra = map[rune]string{
	'ß': "ss", 'ẞ': "ss",
	'æ': "ae", 'Æ': "ae",
	'œ': "oe", 'Œ': "oe",
	'ø': "o", 'Ø': "o",
	'ł': "l", 'Ł': "l",
	'đ': "d", 'Đ': "d",
	'ð': "d", 'Ð': "d",
	'þ': "th", 'Þ': "th",
	'ħ': "h", 'Ħ': "h",
	'ŧ': "t", 'Ŧ': "t",
	'ŋ': "n", 'Ŋ': "n",
	'ı': "i",
	'ĸ': "k",
	'ſ': "s",
	'ƒ': "f",
	'ɖ': "d", 'Ɖ': "d",
}

// slugIsApostrophe reports whether r is an apostrophe or a quote used as one.
// Apostrophes vanish without a separator so that "Ukraine's" stays one word
// ("ukraines") and "don't" becomes "dont", as word-based slugs read best.
func slugIsApostrophe(r rune) bool {
	switch r {
	case '\'', '`', '´', '‘', '’', 'ʼ', 'ʻ', '＇', '′':
		return true
	}
	return false
}

// slugInvisibleLetter reports letters that render as nothing (Hangul fillers);
// they are treated as separators so a slug never holds invisible runs.
func slugInvisibleLetter(r rune) bool {
	switch r {
	case '\u115f', '\u1160', '\u3164', '\uffa0':
		return true
	}
	return false
}

func slugIsMark(r rune) bool { return unicode.In(r, unicode.Mn, unicode.Mc, unicode.Me) }

// Slugify turns s into a slug: lower case; Latin letters without diacritics
// ("é" → "e", "ß" → "ss", "ø" → "o"); other scripts kept as lower-case
// letters (Cyrillic, Greek, CJK, Hangul and so on stay readable);
// compatibility forms folded ("ﬁ" → "fi", full-width to ASCII); apostrophes
// dropped; every other run of characters that are not letters or digits
// replaced by one "-"; no leading or trailing "-"; at most MaxSlugLen bytes,
// cut at a word boundary where possible. The result is never empty
// ("untitled") and never contains "/", "..", control characters or a
// leading dot, so it is safe as a path element.
func Slugify(s string) string {
	slug, ok := slugify(s, MaxSlugLen)
	if !ok {
		return slugFallback
	}
	return slug
}

// SlugifyOK is Slugify that also says whether s held a letter or digit:
// when it did not, it returns "" and false rather than "untitled", so the
// caller can fall back to another name.
func SlugifyOK(s string) (string, bool) { return slugify(s, MaxSlugLen) }

// ArticleSlug is the slug of an article listed in a digest:
// Slugify(title + " - " + publisher).
func ArticleSlug(title, publisher string) string {
	if publisher == "" {
		return Slugify(title)
	}
	return Slugify(title + " - " + publisher)
}

// LegacyArticleSlug is the slug ArticleSlug gave before MaxSlugLen was
// raised from LegacyMaxSlugLen; ok is false when it is the same as today's.
// An article stored under it keeps it: a slug once given never changes.
func LegacyArticleSlug(title, publisher string) (slug string, ok bool) {
	s := title
	if publisher != "" {
		s = title + " - " + publisher
	}
	legacy, got := slugify(s, LegacyMaxSlugLen)
	if !got {
		return "", false
	}
	return legacy, legacy != ArticleSlug(title, publisher)
}

// ValidSlug reports whether s is already a slug in the form Slugify
// produces, and so is safe to use as a path element as it is. It is the one
// slug rule: the archiver keeps a digest's own slug only when it passes, and
// the viewer serves only slugs that pass, so a name the archiver would never
// write ("Ab", "a_b", "x.y") is never looked up either.
func ValidSlug(s string) bool {
	slug, ok := slugify(s, MaxSlugLen)
	return ok && slug == s
}

// CollisionSlug resolves a slug collision deterministically: it returns base
// (shortened if needed to stay within MaxSlugLen) followed by "-" and the
// first CollisionHexLen hex digits of the SHA-256 of key. The pipeline passes
// the article's identity (its publisher URL) as key, so the same article
// always gets the same slug. It is CollisionSlugRound(base, key, 1).
func CollisionSlug(base, key string) string { return CollisionSlugRound(base, key, 1) }

// CollisionSlugRound is the slug of the given round (1, 2, ...) of
// collision resolution: round 1 hashes key, round n > 1 hashes key, a NUL
// and n, for when the round before gave a slug that another article already
// holds (a title crafted to take it). A slug is never taken from another
// article; the caller tries the rounds in turn until one is free.
func CollisionSlugRound(base, key string, round int) string {
	h := key
	if round > 1 {
		h = key + "\x00" + strconv.Itoa(round)
	}
	return suffixSlug(base, h, CollisionHexLen, MaxSlugLen)
}

// SuffixedSlug is base with "-" and suffix (itself a slug) appended, base
// shortened so that the whole stays within MaxSlugLen.
func SuffixedSlug(base, suffix string) string {
	b, ok := slugify(base, MaxSlugLen-len(suffix)-1)
	if !ok {
		return suffix
	}
	return b + "-" + suffix
}

// LegacyCollisionSlug is the collision slug of versions before
// CollisionHexLen was raised: 8 hex digits, base cut to LegacyMaxSlugLen.
// An article stored under it keeps it, once the store shows it is that
// article's.
func LegacyCollisionSlug(base, key string) string {
	return suffixSlug(base, key, legacyCollisionHexLen, LegacyMaxSlugLen)
}

func suffixSlug(base, key string, hexLen, limit int) string {
	sum := sha256.Sum256([]byte(key))
	suffix := "-" + hex.EncodeToString(sum[:])[:hexLen]
	b, ok := slugify(base, limit-len(suffix))
	if !ok {
		b = slugFallback
	}
	return b + suffix
}

// slugify does the work of Slugify; ok is false when s holds no letter or
// digit.
func slugify(s string, limit int) (slug string, ok bool) {
	if !slugASCII(s) {
		// Invalid bytes become U+FFFD first: norm passes them through and
		// would leave the runes after them undecomposed.
		// Lowering first lets NFKD see the lower-case letters, some of which
		// decompose where their capitals do not.
		s = norm.NFKD.String(strings.ToLower(strings.ToValidUTF8(s, "\uFFFD")))
	}
	var b strings.Builder
	b.Grow(len(s))
	sep := false       // a separator is pending before the next letter
	latinBase := false // the last letter written was Latin, so marks on it are dropped
	wrote := false     // the last thing seen was a letter or digit (marks attach to it)
	for _, r := range s {
		if r >= utf8.RuneSelf {
			r = unicode.ToLower(r)
		}
		switch {
		case r < utf8.RuneSelf && ('a' <= r && r <= 'z' || '0' <= r && r <= '9'):
			slugWriteRune(&b, r, &sep)
			latinBase, wrote = true, true
		case r < utf8.RuneSelf && 'A' <= r && r <= 'Z':
			slugWriteRune(&b, r+('a'-'A'), &sep)
			latinBase, wrote = true, true
		case slugIsApostrophe(r):
			// Dropped without a separator.
		case slugLatinExtra[r] != "":
			for _, t := range slugLatinExtra[r] {
				slugWriteRune(&b, t, &sep)
			}
			latinBase, wrote = true, true
		case slugIsMark(r):
			// Diacritics on Latin letters are dropped; marks on other
			// scripts (Devanagari vowel signs, kana voicing, Cyrillic breve)
			// are part of the letter and kept.
			if wrote && !latinBase {
				b.WriteRune(r)
			}
		case unicode.Is(unicode.Cf, r):
			// Invisible format characters (soft hyphen, ZWNJ, BOM) are
			// dropped so they neither split words nor hide in slugs.
		case (unicode.IsLetter(r) || unicode.IsDigit(r)) && !slugInvisibleLetter(r):
			slugWriteRune(&b, r, &sep)
			latinBase, wrote = unicode.Is(unicode.Latin, r), true
		default:
			sep, wrote = b.Len() > 0, false
		}
	}
	out := b.String()
	if out == "" {
		return "", false
	}
	if !slugASCII(out) {
		// Recompose what was kept (Cyrillic й, kana が, Hangul syllables).
		out = norm.NFC.String(out)
	}
	return slugTruncate(out, limit), true
}

func slugWriteRune(b *strings.Builder, r rune, sep *bool) {
	if *sep {
		b.WriteByte('-')
		*sep = false
	}
	b.WriteRune(r)
}

// slugTruncate cuts s to at most limit bytes: at the last "-" if that keeps at
// least half of the allowed length, otherwise at a rune boundary that does
// not separate a letter from its marks.
func slugTruncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if i := strings.LastIndexByte(s[:cut+1], '-'); i >= limit/2 {
		cut = i
	} else {
		for cut > 0 {
			r, _ := utf8.DecodeRuneInString(s[cut:])
			if !slugIsMark(r) {
				break
			}
			cut--
			for cut > 0 && !utf8.RuneStart(s[cut]) {
				cut--
			}
		}
	}
	out := strings.TrimRight(s[:cut], "-")
	if out == "" {
		// Only possible for a single word of marks-laden letters longer than
		// limit; fall back to a plain rune-boundary cut.
		cut = limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		out = strings.TrimRight(s[:cut], "-")
	}
	if out == "" {
		return slugFallback
	}
	return out
}

func slugASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// captureIDLayout formats a capture's fetch time as its id: it sorts in
// time order and is unique per article in practice (captures of one
// article are seconds apart).
const captureIDLayout = "20060102T150405.000Z"

// CaptureID is the id of a capture fetched at t, e.g. "20240101T080000.000Z",
// which names its folder under history/.
func CaptureID(t time.Time) string { return t.UTC().Format(captureIDLayout) }

// maxCaptureIDLen bounds a capture id; CaptureID's are 20 bytes.
const maxCaptureIDLen = 64

// ValidCaptureID reports whether id may name a capture in history/: 1 to 64
// ASCII letters, digits, '.', '-' and '_', starting with a letter or digit
// and without "..". CaptureID's ids pass, as do the shorter ones of
// earlier versions ("20240101T080000Z"); nothing that passes can leave its
// path segment.
func ValidCaptureID(id string) bool {
	if id == "" || len(id) > maxCaptureIDLen || strings.Contains(id, "..") {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '-' || c == '_'):
		default:
			return false
		}
	}
	return true
}
