package textscore

import (
	"math"
	"slices"
	"testing"
)

func TestTokens(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  ,.!  ", nil},
		{"Hello, world!", []string{"Hello", "world"}},
		{"don't stop_me now2", []string{"don", "t", "stop_me", "now2"}},
		{"Привет, мир! 東京タワー 서울", []string{"Привет", "мир", "東京タワー", "서울"}},
		// A combining mark is not a word character in Python's \w either.
		{"cafe\u0301s", []string{"cafe", "s"}},
		{"½ ² Ⅻ", []string{"½", "²", "Ⅻ"}},
	}
	for _, tt := range tests {
		if got := Tokens(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("Tokens(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name        string
		truth, pred string
		want        Match
		p, r        float64
	}{
		{"identical", "one two three four five", "one two three four five", Match{1, 0, 0}, 1, 1},
		{"missing tail", "a b c d e", "a b c d", Match{0.5, 0, 0.5}, 1, 0.5},
		{"extra tail", "a b c d", "a b c d e", Match{0.5, 0.5, 0}, 0.5, 1},
		{"case matters", "A b c d", "a b c d", Match{0, 0.5, 0.5}, 0, 0},
		{"punctuation ignored", "a, b. c! d?", "a b c d", Match{1, 0, 0}, 1, 1},
		{"short texts are one shingle", "hello world", "hello world", Match{1, 0, 0}, 1, 1},
		{"multiset counts", "x x x x x", "x x x x", Match{0.5, 0, 0.5}, 1, 0.5},
		{"nothing predicted", "a b c d", "", Match{0, 0, 1}, 0, 0},
		{"nothing expected", "", "a b c d", Match{0, 1, 0}, 0, 0},
		{"both empty", "", "", Match{0, 0, 0}, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compare(tt.truth, tt.pred)
			if !approx(got.TP, tt.want.TP) || !approx(got.FP, tt.want.FP) || !approx(got.FN, tt.want.FN) {
				t.Errorf("Compare = %+v, want %+v", got, tt.want)
			}
			if !approx(got.Precision(), tt.p) || !approx(got.Recall(), tt.r) {
				t.Errorf("precision, recall = %v, %v, want %v, %v", got.Precision(), got.Recall(), tt.p, tt.r)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	pages := []Match{
		Compare("a b c d e", "a b c d"), // P 1, R 0.5
		Compare("a b c d", "a b c d e"), // P 0.5, R 1
		Compare("a b c d", ""),          // no prediction: counts for recall (0), not precision
		Compare("", ""),                 // counts for neither
	}
	got := Summarize(pages)
	wantP := (1 + 0.5) / 2.0
	wantR := (0.5 + 1 + 0) / 3.0
	wantF := 2 * wantP * wantR / (wantP + wantR)
	if got.Pages != 4 || !approx(got.Precision, wantP) || !approx(got.Recall, wantR) || !approx(got.F1, wantF) {
		t.Errorf("Summarize = %+v, want P %v R %v F1 %v over 4 pages", got, wantP, wantR, wantF)
	}
	if s := Summarize(nil); s != (Summary{}) {
		t.Errorf("Summarize(nil) = %+v, want zero", s)
	}
}

func approx(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
