package charset

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// misdecodedScan bounds the text LooksMisdecoded reads: mojibake is
// everywhere in a misdecoded text, so its start decides.
const misdecodedScan = 256 << 10

// Thresholds of LooksMisdecoded. A correctly decoded text has none of
// these marks, or a stray few (a broken emoji, a quoted "Ã©"); a
// misdecoded one has them wherever it is not ASCII.
const (
	minReplacement   = 5  // U+FFFD characters, and at least 2% of the letters
	minMojibakePairs = 4  // UTF-8 sequences read as single bytes, covering half the non-ASCII characters
	minForeignWords  = 5  // words wholly of Latin-1 letters, and a third of the words of 4+ letters
	minWordLetters   = 4  // letters a word needs to count for minForeignWords
	pairShare        = 2  // 1/pairShare of non-ASCII characters in misread UTF-8 sequences
	foreignShare     = 3  // 1/foreignShare of words wholly of Latin-1 letters
	replacementShare = 50 // 1/replacementShare of letters being U+FFFD
)

// singleByte are the encodings UTF-8 is most often misread as (the web's
// legacy defaults of Western, Cyrillic and Central European pages).
var singleByte = []*charmap.Charmap{charmap.Windows1252, charmap.Windows1251, charmap.Windows1250}

// LooksMisdecoded reports whether text, already in UTF-8, shows the marks
// of bytes decoded with the wrong character set (mojibake):
//   - replacement characters (U+FFFD) for a noticeable share of its
//     letters: bytes that were not valid in the encoding assumed;
//   - UTF-8 read as a single-byte encoding: characters whose bytes in
//     windows-1252, -1251 or -1250 form valid UTF-8 sequences ("Ã©" for
//     "é", "â€™" for "’", "Ð¿Ñ€Ð¸" for "при"), for most of its
//     non-ASCII characters;
//   - a single-byte encoding read as another: words wholly made of
//     Latin-1 letters without an ASCII one ("Ïðèâåò" for "Привет"),
//     which no language written in Latin letters has in numbers.
//
// It reads at most the first 256 KiB of text, in one pass per encoding.
func LooksMisdecoded(text string) bool {
	if len(text) > misdecodedScan {
		n := misdecodedScan
		for n > 0 && !utf8.RuneStart(text[n]) {
			n--
		}
		text = text[:n]
	}
	var letters, replacement, nonASCII, words, foreign int
	wordLetters, wordLatin1 := 0, true
	endWord := func() {
		if wordLetters >= minWordLetters {
			words++
			if wordLatin1 {
				foreign++
			}
		}
		wordLetters, wordLatin1 = 0, true
	}
	for _, r := range text {
		if r >= utf8.RuneSelf {
			nonASCII++
		}
		switch {
		case r == utf8.RuneError:
			replacement++
			endWord()
		case unicode.IsLetter(r):
			letters++
			wordLetters++
			if r < 0xC0 || r > 0xFF || r == 0xD7 || r == 0xF7 {
				wordLatin1 = false
			}
		default:
			endWord()
		}
	}
	endWord()
	switch {
	case replacement >= minReplacement && replacement*replacementShare >= letters+replacement:
		return true
	case foreign >= minForeignWords && foreign*foreignShare >= words:
		return true
	}
	if nonASCII < minMojibakePairs*2 {
		return false
	}
	for _, cm := range singleByte {
		pairs, covered := misreadUTF8(text, cm)
		if pairs >= minMojibakePairs && covered*pairShare >= nonASCII {
			return true
		}
	}
	return false
}

// misreadUTF8 counts the runs of characters of text whose bytes in cm are
// a valid multi-byte UTF-8 sequence, and the characters in them.
func misreadUTF8(text string, cm *charmap.Charmap) (sequences, chars int) {
	var seq [4]byte
	need, have := 0, 0
	for _, r := range text {
		b, ok := byte(0), false
		if r >= utf8.RuneSelf {
			b, ok = cm.EncodeRune(r)
		}
		if need > 0 && ok && b >= 0x80 && b <= 0xBF {
			seq[have] = b
			have++
			if have == need+1 {
				if utf8.FullRune(seq[:have]) {
					if dec, _ := utf8.DecodeRune(seq[:have]); dec != utf8.RuneError {
						sequences++
						chars += have
					}
				}
				need, have = 0, 0
			}
			continue
		}
		need, have = 0, 0
		if !ok {
			continue
		}
		switch {
		case b >= 0xC2 && b <= 0xDF:
			need = 1
		case b >= 0xE0 && b <= 0xEF:
			need = 2
		case b >= 0xF0 && b <= 0xF4:
			need = 3
		default:
			continue
		}
		seq[0], have = b, 1
	}
	return sequences, chars
}
