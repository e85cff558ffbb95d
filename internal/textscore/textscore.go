// Package textscore scores an extracted article text against a reference
// text with the metric of the Zyte (Scrapinghub) article-extraction
// benchmark, so that linkarc's figures can be compared with the published
// ones.
//
// The metric: both texts are split into word tokens (Python's Unicode \w+:
// letters, digits and underscore; case kept), turned into multisets of
// overlapping 4-token shingles, and compared per page. A page's true
// positives, false positives and false negatives are normalised to sum to
// one, so long pages weigh no more than short ones. Precision and recall are
// averaged over pages and F1 is the harmonic mean of the two averages (not
// the mean of per-page F1).
package textscore

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// ShingleSize is the number of tokens in a shingle, as in the benchmark.
const ShingleSize = 4

// Match is one page's comparison. TP, FP and FN are normalised to sum to 1
// (all three are 0 only when neither text has a token).
type Match struct {
	TP, FP, FN float64
}

// Precision is the page's precision as the benchmark computes it: 1 when
// nothing was missed or added, 0 when nothing matched and nothing was
// predicted.
func (m Match) Precision() float64 {
	switch {
	case m.FP == 0 && m.FN == 0:
		return 1
	case m.TP == 0 && m.FP == 0:
		return 0
	}
	return m.TP / (m.TP + m.FP)
}

// Recall is the page's recall, with the same conventions as Precision.
func (m Match) Recall() float64 {
	switch {
	case m.FP == 0 && m.FN == 0:
		return 1
	case m.TP == 0 && m.FN == 0:
		return 0
	}
	return m.TP / (m.TP + m.FN)
}

// F1 is the harmonic mean of the page's precision and recall (0 when both
// are 0). The benchmark's headline F1 is Summary.F1, not the mean of this.
func (m Match) F1() float64 {
	p, r := m.Precision(), m.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// Compare scores pred against truth for one page.
func Compare(truth, pred string) Match {
	ts, ps := shingles(truth), shingles(pred)
	var tp, fp, fn float64
	for k, t := range ts {
		p := ps[k]
		tp += float64(min(t, p))
		fn += float64(max(0, t-p))
	}
	for k, p := range ps {
		t := ts[k]
		fp += float64(max(0, p-t))
	}
	m := Match{TP: tp, FP: fp, FN: fn}
	if s := tp + fp + fn; s > 0 {
		m = Match{TP: tp / s, FP: fp / s, FN: fn / s}
	}
	return m
}

// Summary is the benchmark's result over a set of pages.
type Summary struct {
	Precision float64 // mean page precision over pages with TP+FP > 0
	Recall    float64 // mean page recall over pages with TP+FN > 0
	F1        float64 // harmonic mean of Precision and Recall
	Pages     int
}

// Summarize computes the benchmark's precision, recall and F1 over pages.
func Summarize(pages []Match) Summary {
	var psum, rsum float64
	var pn, rn int
	for _, m := range pages {
		if m.TP+m.FP > 0 {
			psum += m.Precision()
			pn++
		}
		if m.TP+m.FN > 0 {
			rsum += m.Recall()
			rn++
		}
	}
	s := Summary{Pages: len(pages)}
	if pn > 0 {
		s.Precision = psum / float64(pn)
	}
	if rn > 0 {
		s.Recall = rsum / float64(rn)
	}
	if s.Precision+s.Recall > 0 {
		s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
	}
	return s
}

// Tokens splits s into maximal runs of word characters: Unicode letters and
// numbers and '_', which is what Python's re \w matches on str (combining
// marks are not word characters there either).
func Tokens(s string) []string {
	var toks []string
	start := -1
	for i, r := range s {
		if isWord(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			toks = append(toks, s[start:i])
			start = -1
		}
	}
	if start >= 0 {
		toks = append(toks, s[start:])
	}
	return toks
}

func isWord(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

// shingles counts the overlapping ShingleSize-token shingles of s. A text
// with fewer tokens than that is a single shorter shingle, and a text
// without tokens has none, as in the benchmark.
func shingles(s string) map[string]int {
	toks := Tokens(s)
	counts := make(map[string]int, len(toks))
	if len(toks) == 0 {
		return counts
	}
	n := max(1, len(toks)-ShingleSize+1)
	for i := range n {
		end := min(i+ShingleSize, len(toks))
		// Tokens never contain a space, so joining with one is unambiguous.
		counts[strings.Join(toks[i:end], " ")]++
	}
	return counts
}
