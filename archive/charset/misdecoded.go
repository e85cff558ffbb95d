package charset

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
)

// Misdecoding is what MeasureMisdecoding found in a text: the signs that
// its bytes were decoded with the wrong encoding.
type Misdecoding struct {
	Letters      int // letters in the text
	Replacements int // U+FFFD and C1 control characters: bytes no decoder could place
	// Pairs counts UTF-8 sequences read as a legacy single-byte encoding:
	// "Ã©" for é, "â€™" for ’, "Ð°" or "Р°" for а, each one pair.
	Pairs int
	// PairsIn is the encoding whose misreading of UTF-8 explains Pairs
	// ("windows-1252" or "windows-1251"), when Pairs > 0.
	PairsIn string
	// Latin1 counts letters of U+00C0–U+00FF ("ÏðèâåÒ"), and Cyrillic the
	// letters of U+0400–U+04FF: a text mostly made of the former is a
	// non-Latin legacy encoding read as a Western one.
	Latin1 int
}

// Thresholds of Misdecoding.Bad.
const (
	// minReplacements and maxReplacementShare: at least 3 replaced
	// characters and more than 1 per 50 letters (a stray byte pasted into a
	// short text is not a misdecoded page).
	minReplacements     = 3
	maxReplacementShare = 50
	// minPairs and maxPairShare: at least 3 mis-read sequences and at least
	// 1 per 200 letters. Real text has none of the cp1252 pairs (no
	// language writes "Ã©"), but a rare word can look like one (Ukrainian
	// "Рі…" is a UTF-8 sequence in windows-1251), hence a share, not one.
	minPairs     = 3
	maxPairShare = 200
	// minLatin1 and latin1Share: at least 20 letters of U+00C0–U+00FF and
	// more than a third of all letters. Accented Western languages stay
	// far below (French ~4%, Icelandic and Hungarian ~10%).
	minLatin1   = 20
	latin1Share = 3
)

// Bad reports whether the text is very likely misdecoded: many replaced
// bytes, UTF-8 read as a legacy encoding, or a non-Latin text read as
// Latin-1.
func (m Misdecoding) Bad() bool {
	letters := max(m.Letters, 1)
	switch {
	case m.Replacements >= minReplacements && m.Replacements*maxReplacementShare > letters:
		return true
	case m.Pairs >= minPairs && m.Pairs*maxPairShare >= letters:
		return true
	case m.Latin1 >= minLatin1 && m.Latin1*latin1Share > letters:
		return true
	}
	return false
}

// String says what was found, for a verdict's message.
func (m Misdecoding) String() string {
	switch {
	case m.Replacements >= minReplacements && m.Replacements*maxReplacementShare > max(m.Letters, 1):
		return fmt.Sprintf("%d of %d characters could not be decoded (U+FFFD or C1 controls)", m.Replacements, m.Letters+m.Replacements)
	case m.Pairs >= minPairs && m.Pairs*maxPairShare >= max(m.Letters, 1):
		return fmt.Sprintf("%d UTF-8 sequences read as %s (like \"Ã©\" for é)", m.Pairs, m.PairsIn)
	case m.Latin1 >= minLatin1 && m.Latin1*latin1Share > max(m.Letters, 1):
		return fmt.Sprintf("%d of %d letters are Latin-1 accented letters: a non-Latin text read as a Western encoding", m.Latin1, m.Letters)
	}
	return "no sign of misdecoding"
}

// LooksMisdecoded reports whether text (extracted from a decoded page, in
// UTF-8) is very likely mojibake: a page decoded with the wrong encoding.
// See Misdecoding.Bad for the signs and MeasureMisdecoding for details.
// Short texts are judged as they are: a few signs in a short text count.
func LooksMisdecoded(text string) bool { return MeasureMisdecoding(text).Bad() }

// misreadAs are the encodings whose misreading of UTF-8 bytes is common on
// the web: Western pages (and servers' defaults), Cyrillic and Central European ones.
var misreadAs = []struct {
	name string
	enc  encoding.Encoding
}{
	{"windows-1252", charmap.Windows1252},
	{"windows-1251", charmap.Windows1251},
	{"windows-1250", charmap.Windows1250},
}

// MeasureMisdecoding counts the signs of misdecoding in text. It runs in
// time linear in len(text) and does not allocate beyond a small table.
func MeasureMisdecoding(text string) Misdecoding {
	var m Misdecoding
	for _, r := range text {
		switch {
		case r == utf8.RuneError || (r >= 0x80 && r <= 0x9f):
			m.Replacements++
		case unicode.IsLetter(r):
			m.Letters++
			if r >= 0xc0 && r <= 0xff && r != 0xd7 && r != 0xf7 {
				m.Latin1++
			}
		}
	}
	for _, e := range misreadAs {
		if n := countPairs(text, singleByte(e.enc)); n > m.Pairs {
			m.Pairs, m.PairsIn = n, e.name
		}
	}
	return m
}

// byteTable maps the runes of a single-byte encoding's upper half to their
// bytes.
type byteTable map[rune]byte

func singleByte(e encoding.Encoding) byteTable {
	t := byteTable{}
	dec := e.NewDecoder()
	for b := 0x80; b <= 0xff; b++ {
		out, err := dec.Bytes([]byte{byte(b)})
		if err != nil {
			continue
		}
		r, _ := utf8.DecodeRune(out)
		if r != utf8.RuneError {
			t[r] = byte(b)
		}
	}
	return t
}

// countPairs counts runs of runes, at least one of them not a letter, that
// the single-byte encoding t encodes as one whole, valid UTF-8 sequence of
// two to four bytes: what UTF-8 text looks like after being decoded as t.
func countPairs(text string, t byteTable) int {
	n := 0
	var seq [4]byte
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		lead, ok := t[r]
		need := 0
		switch {
		case ok && lead >= 0xc2 && lead <= 0xdf:
			need = 1
		case ok && lead >= 0xe0 && lead <= 0xef:
			need = 2
		case ok && lead >= 0xf0 && lead <= 0xf4:
			need = 3
		}
		if need == 0 {
			i += size
			continue
		}
		seq[0] = lead
		symbol := !unicode.IsLetter(r)
		j, k := i+size, 1
		for ; k <= need && j < len(text); k++ {
			c, csize := utf8.DecodeRuneInString(text[j:])
			b, ok := t[c]
			if !ok || b < 0x80 || b > 0xbf {
				break
			}
			symbol = symbol || !unicode.IsLetter(c)
			seq[k] = b
			j += csize
		}
		// Only runs with a symbol in them count ("Ã©", "Ð°", "â€™", "С‚"):
		// a capital followed by a letter is also how real words start
		// (Ukrainian "Він" is a UTF-8 sequence in windows-1251), while
		// mojibake has symbols in nearly every other pair.
		if k == need+1 && symbol && utf8.Valid(seq[:need+1]) {
			n++
			i = j
			continue
		}
		i += size
	}
	return n
}
