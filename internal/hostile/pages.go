// Package hostile generates what a hostile publisher can serve: HTML pages
// whose shape makes parsers and extractors slow or hungry, and HTTP
// responses whose headers are floods. Tests and benchmarks use it to prove
// that every such input is bounded (issue 10).
//
// Everything is deterministic: the same call returns the same bytes on
// every machine and run (text comes from a fixed vocabulary and a fixed
// seed), so a measured figure can be reproduced. Size-scaled generators
// return a page of at most size bytes and within about 1 KiB of it; the
// doc comment of each gives the shape and how many of its units a megabyte
// holds.
package hostile

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
)

// Unit is what a Page's scale counts.
type Unit string

const (
	Bytes Unit = "bytes" // the page's size in bytes
	Depth Unit = "depth" // nesting depth in elements
)

// A Page is one shape of hostile page, generated at a requested scale.
type Page struct {
	Name  string // short and stable, usable as a test or benchmark name
	Shape string // what the page is made of, one line
	Unit  Unit   // what Gen's argument counts
	Gen   func(n int) []byte
}

// Pages returns every shape, size-scaled ones first. Nothing in it is a
// valid article: each page is as hard as its shape allows for a reader
// that does what linkarc's extraction does (parse, score, clean, render).
func Pages() []Page {
	return []Page{
		{"br-words", "`word<br>` repeated in one <div> (one text node and one <br> per 8 bytes)", Bytes, BRWords},
		{"paragraphs", "plain <p> paragraphs of 40-120 words of prose, in one <article>", Bytes, Paragraphs},
		{"links", "<li><a href> items in one <ul> (~17k links per MB)", Bytes, Links},
		{"dates", "<p>s of sentences each carrying dates in a dozen formats", Bytes, Dates},
		{"text-nodes", "one-letter text nodes between empty comments (~250k text nodes per MB)", Bytes, TextNodes},
		{"table", "one <table> of 8-column rows of short cells", Bytes, Table},
		{"long-words", "<p>s each holding one unbroken 64 KiB word", Bytes, LongWords},
		{"huge-attributes", "a few elements whose class, id, style and data- values are 1/8 of the page each", Bytes, HugeAttributes},
		{"giant-metadata", "<title>, og:title, og:description and description meta of 1/4 of the page each", Bytes, GiantMetadata},
		{"formatting-bomb", "unclosed formatting elements the parser reopens in every <p> (~5 elements per byte)", Bytes, FormattingBomb},
		{"formatting-bomb-attrs", "480 formatting elements told apart by attributes, reopened in every <p> (~96 elements per byte past the first 8 KiB)", Bytes, FormattingBombAttrs},
		{"flat-divs", "sibling <div>s of one short sentence (~15k per MB)", Bytes, FlatDivs},
		{"nested-500", "paragraphs spread over a 500-deep <div> chain", Bytes, func(n int) []byte { return NestedDivs(500, n) }},
		{"nested-100", "paragraphs spread over a 100-deep <div> chain", Bytes, func(n int) []byte { return NestedDivs(100, n) }},
		{"deep-divs", "a <div> chain, one sentence per level", Depth, func(d int) []byte { return NestedDivs(d, 0) }},
		{"deep-inline", "a <span><b><i><em> chain, one word per level", Depth, NestedInline},
	}
}

// BRWords is `word<br>` repeated in one <div>: the page reported in issue
// 10 (15 MB killed at 6 GB). 1 MB holds 131k text nodes and 131k <br>s.
func BRWords(size int) []byte {
	w := newPage(size, "br-words")
	w.fill(func(*writer) string { return "word<br>" })
	return w.done()
}

// Paragraphs is plain <p> paragraphs of 40-120 words of generated prose
// in one <article>: quadratic in the second-opinion extractor per issue 10
// (1/2/4 MB took 2.3/8.0/28.7 s). 1 MB holds about 2,500 paragraphs.
func Paragraphs(size int) []byte {
	w := newPage(size, "paragraphs")
	w.WriteString("<article>\n")
	w.tail = "</article>\n" + w.tail
	w.fill(func(w *writer) string { return "<p>" + w.sentences(40+w.rng.IntN(80)) + "</p>\n" })
	return w.done()
}

// Links is a <ul> of <li><a href="/story/N">Story N words</a></li>: a
// link farm (issue 10: 450k links took 13.5 s and 2.6 GB). 1 MB holds
// about 17k links.
func Links(size int) []byte {
	w := newPage(size, "links")
	w.WriteString("<ul>\n")
	w.tail = "</ul>\n" + w.tail
	i := 0
	w.fill(func(w *writer) string {
		i++
		return fmt.Sprintf("<li><a href=\"/story/%d\">Story %d %s</a></li>\n", i, i, w.words(3))
	})
	return w.done()
}

// dateFormats are the spellings of one instant that date finders try.
var dateFormats = []string{
	"2006-01-02", "2006-01-02T15:04:05Z", "02/01/2006", "01/02/2006", "2 January 2006",
	"January 2, 2006", "Jan 2 2006 15:04", "Monday, 02-Jan-06 15:04:05 MST", "2006/01/02",
	"02.01.2006", "20060102", "Mon, 02 Jan 2006 15:04:05 -0700",
}

// Dates is paragraphs of sentences each carrying three dates in varied
// formats, plus <time> elements: what date searches over a page's text
// scan (issue 10: more than 300 s). 1 MB holds about 14k dates.
func Dates(size int) []byte {
	w := newPage(size, "dates")
	day := 0
	w.fill(func(w *writer) string {
		var b strings.Builder
		b.WriteString("<p>")
		for range 3 {
			day++
			t := dateBase.AddDate(0, 0, day%3650)
			fmt.Fprintf(&b, "%s, updated %s. ", w.words(6), t.Format(dateFormats[day%len(dateFormats)]))
		}
		fmt.Fprintf(&b, "<time datetime=\"%s\">%s</time></p>\n",
			dateBase.AddDate(0, 0, day%3650).Format("2006-01-02"), dateBase.AddDate(0, 0, day%3650).Format("2 Jan 2006"))
		return b.String()
	})
	return w.done()
}

// TextNodes is one-letter text nodes kept apart by empty comments
// (`a<!---->`), all in one <p>: as many DOM nodes as a page can hold per
// byte. 1 MB holds 131k text nodes and as many comments.
func TextNodes(size int) []byte {
	w := newPage(size, "text-nodes")
	w.WriteString("<p>")
	w.tail = "</p>\n" + w.tail
	i := 0
	w.fill(func(*writer) string {
		i++
		return string(rune('a'+i%26)) + "<!---->"
	})
	return w.done()
}

// Table is one <table> of 8-column rows of one- or two-word cells: table
// handling in both extractors (layout tables, cell scoring). 1 MB holds
// about 8k rows, 64k cells.
func Table(size int) []byte {
	w := newPage(size, "table")
	w.WriteString("<table>\n")
	w.tail = "</table>\n" + w.tail
	w.fill(func(w *writer) string {
		var b strings.Builder
		b.WriteString("<tr>")
		for range 8 {
			b.WriteString("<td>" + w.words(1+w.rng.IntN(2)) + "</td>")
		}
		b.WriteString("</tr>\n")
		return b.String()
	})
	return w.done()
}

// LongWords is <p>s each holding one unbroken word of 64 KiB letters:
// word splitting, hyphenation and per-word regexes. 1 MB holds 16 words.
func LongWords(size int) []byte {
	const word = 64 << 10
	w := newPage(size, "long-words")
	w.fill(func(w *writer) string {
		return "<p>" + strings.Repeat(string(rune('a'+w.rng.IntN(26))), word) + "</p>\n"
	})
	return w.done()
}

// HugeAttributes is four elements whose class, id, style and data-x
// values are each about size/16: readability matches class and id against
// regexes on every visit, and attributes are copied with every clone.
func HugeAttributes(size int) []byte {
	w := newPage(size, "huge-attributes")
	n := max((size-1024)/16, 1)
	val := func(c byte) string { return strings.Repeat(string(c)+"x ", n/3) }
	for _, tag := range []string{"div", "p", "span", "img"} {
		fmt.Fprintf(w, "<%s class=\"%s\" id=\"%s\" style=\"%s\" data-x=\"%s\">%s</%s>\n",
			tag, val('c'), val('i'), val('s'), val('d'), w.sentences(20), tag)
	}
	return w.done()
}

// GiantMetadata is a <title>, og:title, og:description and description
// <meta> of about size/4 each (issue 10 item 8: a 5 MB og:description
// made a 5.2 MB meta.json), over a short paragraph.
func GiantMetadata(size int) []byte {
	n := max((size-2048)/4, 1)
	long := func(seed string) string {
		var b strings.Builder
		r := rand.New(rand.NewPCG(1, uint64(len(seed))))
		for b.Len() < n {
			b.WriteString(vocabulary[r.IntN(len(vocabulary))])
			b.WriteByte(' ')
		}
		return b.String()[:n]
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>%s</title>\n", long("t"))
	fmt.Fprintf(&b, "<meta property=\"og:title\" content=\"%s\">\n", long("og:t"))
	fmt.Fprintf(&b, "<meta property=\"og:description\" content=\"%s\">\n", long("og:desc"))
	fmt.Fprintf(&b, "<meta name=\"description\" content=\"%s\">\n", long("description"))
	b.WriteString("</head><body><article><p>" + newWriter(0, "gm").sentences(60) + "</p></article></body></html>\n")
	return b.Bytes()
}

// formattingTags are the HTML formatting elements: the parser keeps up
// to three of each open across block boundaries and reopens them in every
// new block (HTML Living Standard 13.2.4.3, "reconstruct the active
// formatting elements").
var formattingTags = []string{"a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u"}

// FormattingBomb opens every formatting element three times inside a <p>
// and never closes them, then repeats `<p>word`: each new <p> closes the
// previous one with the formatting elements inside it, and the parser
// reopens all 39 of them for the next word, so the tree has ~5 elements
// per byte of input (1.2 million for 256 KiB).
func FormattingBomb(size int) []byte {
	w := newPage(size, "formatting-bomb")
	w.WriteString("<p>")
	for range 3 {
		for _, t := range formattingTags {
			if t == "a" {
				continue // a new <a> closes the previous one
			}
			fmt.Fprintf(w, "<%s>", t)
		}
	}
	w.fill(func(*writer) string { return "<p>word\n" })
	return w.done()
}

// FormattingBombAttrs is FormattingBomb without the parser's cap: the
// "Noah's Ark" clause keeps at most three formatting elements with the
// same tag and attributes, so elements that differ by a class attribute
// are all kept and all reopened in every <p>. 480 of them (8 KiB) keep
// the stack of open elements under x/net/html's limit of 512, and each
// `<p>x` (5 bytes) then costs ~480 elements: 16 KiB parse into 0.8
// million nodes, 64 KiB into ~6 million (measured: 959 MB and 5.7 s for
// html.Parse alone). No byte limit bounds the parser's memory.
func FormattingBombAttrs(size int) []byte {
	w := newPage(size, "formatting-bomb-attrs")
	w.WriteString("<p>")
	// Not <a> or <nobr>: a new one closes the one before.
	tags := []string{"b", "big", "code", "em", "font", "i", "s", "small", "strike", "strong", "tt", "u"}
	for i := range 480 {
		fmt.Fprintf(w, "<%s class=c%d>", tags[i%len(tags)], i)
	}
	w.fill(func(*writer) string { return "<p>x\n" })
	return w.done()
}

// FlatDivs is sibling <div>s of one short sentence each: readability turns
// such divs into paragraphs and scores each as a candidate. 1 MB holds
// about 15k divs.
func FlatDivs(size int) []byte {
	w := newPage(size, "flat-divs")
	w.fill(func(w *writer) string { return "<div>" + w.sentences(8+w.rng.IntN(6)) + "</div>\n" })
	return w.done()
}

// NestedDivs is a chain of depth nested <div>s. With size 0 each level
// holds one short sentence before its child; otherwise each level holds a
// <p> of prose, the paragraphs adding up to about size bytes (the issue 10
// page: 500 deep took 36-56 s). golang.org/x/net/html refuses documents
// whose open-element stack exceeds 512 (html.Parse fails), so a chain
// deeper than ~500 tests that refusal, not the extractors.
func NestedDivs(depth, size int) []byte {
	w := newPage(1<<62, "nested")
	per := 0
	if size > 0 {
		per = max((size-len(w.Bytes())-depth*18)/max(depth, 1)-7, 5)
	}
	for range depth {
		w.WriteString("<div>")
		if per == 0 {
			w.WriteString(w.sentences(6))
		} else {
			w.WriteString("<p>" + w.prose(per) + "</p>")
		}
		w.WriteByte('\n')
	}
	w.WriteString(strings.Repeat("</div>", depth))
	return w.done()
}

// NestedInline is a chain of depth nested inline elements (span, b, i, em
// in turn), one word per level, inside one <p>: inline nesting is not
// closed by block boundaries and is walked by every text collector.
func NestedInline(depth int) []byte {
	w := newPage(1<<62, "nested-inline")
	tags := []string{"span", "b", "i", "em"}
	w.WriteString("<p>")
	for i := range depth {
		fmt.Fprintf(w, "<%s>%s ", tags[i%len(tags)], w.words(1))
	}
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(w, "</%s>", tags[i%len(tags)])
	}
	w.WriteString("</p>\n")
	return w.done()
}
