package hostile

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"time"
)

// dateBase is the first date Dates writes.
var dateBase = time.Date(2019, time.March, 4, 9, 30, 0, 0, time.UTC)

// vocabulary is the words generated prose is made of: common English
// words, so language detection and stop-word scoring see ordinary text.
var vocabulary = strings.Fields(`the of and to a in that is was he for it with as his on be at by
this had not are but from or have an they which one you were her all she there would their we him
been has when who will more no if out so said what up its about into than them can only other new
some could time these two may then do first any my now such like our over man me even most made
after also did many before must through back years where much your way well down should because
each just those people how too little state good very make world still own see men work long get
here between both life being under never day same another know while last might us great old year
off come since against go came right used take three city council report minister police court
week government market company health school water children research policy election official`)

// writer builds one page: a fixed head, a body filled up to a size, and
// a tail (the closing tags) that always fits.
type writer struct {
	bytes.Buffer
	size int
	tail string
	rng  *rand.Rand
}

// newPage starts a page of at most size bytes; name seeds the text so that
// every shape has its own, stable prose.
func newPage(size int, name string) *writer {
	w := newWriter(size, name)
	if size <= 256<<20 {
		w.Grow(size)
	}
	w.WriteString("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
		"A page for " + name + "</title></head>\n<body>\n")
	w.tail = "</body></html>\n"
	return w
}

func newWriter(size int, name string) *writer {
	var seed uint64
	for _, c := range name {
		seed = seed*31 + uint64(c)
	}
	return &writer{size: size, rng: rand.New(rand.NewPCG(seed, 10))}
}

// fill appends units until the next one would not leave room for the
// tail. At least one unit is written, so every page has its shape.
func (w *writer) fill(unit func(*writer) string) {
	for first := true; ; first = false {
		u := unit(w)
		if !first && w.Len()+len(u)+len(w.tail) > w.size {
			return
		}
		w.WriteString(u)
	}
}

func (w *writer) done() []byte {
	w.WriteString(w.tail)
	return w.Bytes()
}

// words returns n words of the vocabulary separated by spaces.
func (w *writer) words(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(vocabulary[w.rng.IntN(len(vocabulary))])
	}
	return b.String()
}

// sentences returns about n words as capitalised sentences of 6-20 words.
func (w *writer) sentences(n int) string {
	var b strings.Builder
	for n > 0 {
		k := min(n, 6+w.rng.IntN(15))
		n -= k
		s := w.words(k)
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strings.ToUpper(s[:1]) + s[1:] + ".")
	}
	return b.String()
}

// prose returns sentences of exactly n bytes (the last word cut short).
func (w *writer) prose(n int) string {
	var b strings.Builder
	for b.Len() < n {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w.sentences(20))
	}
	return b.String()[:n]
}
