package record

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/linkarc/linkarc/internal/fuzzcheck"
)

func TestArticleSlugSeed(t *testing.T) {
	const want = "why-security-guarantees-are-so-crucial-and-thorny-for-ukraine-the-new-york-times"
	got := ArticleSlug("Why Security Guarantees Are So Crucial, and Thorny, for Ukraine", "The New York Times")
	if got != want {
		t.Fatalf("ArticleSlug(seed item 1) = %q, want %q", got, want)
	}
}

func TestSlugify(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Why Security Guarantees Are So Crucial, and Thorny, for Ukraine - The New York Times",
			"why-security-guarantees-are-so-crucial-and-thorny-for-ukraine-the-new-york-times"},
		{"Hello, World!", "hello-world"},
		{"  --Leading and trailing--  ", "leading-and-trailing"},
		{"a   b\t\nc", "a-b-c"},
		{"TAC right now: Top Trump official tells all", "tac-right-now-top-trump-official-tells-all"},
		{"ADAPTIVE INDOMITABLE UKRAINE's Only REAL Security: NATO or Article 5-Type",
			"adaptive-indomitable-ukraines-only-real-security-nato-or-article-5-type"},

		// Apostrophes vanish without a separator, in all their spellings.
		{"don't", "dont"},
		{"Ukraine's", "ukraines"},
		{"Ukraine’s future", "ukraines-future"},
		{"‘Quoted’ words", "quoted-words"},
		{"rock 'n' roll", "rock-n-roll"},
		{"Zelenskyy`s", "zelenskyys"},

		// Latin diacritics and letters that do not decompose.
		{"Café Crème", "cafe-creme"},
		{"Straße", "strasse"},
		{"STRAẞE", "strasse"},
		{"Ørsted Ærø", "orsted-aero"},
		{"Łódź", "lodz"},
		{"Œuvre façade", "oeuvre-facade"},
		{"Þór Ðorđe", "thor-dorde"},
		{"İstanbul", "istanbul"},
		{"Dvořák Škoda Čapek", "dvorak-skoda-capek"},
		{"São Paulo Ñandú", "sao-paulo-nandu"},
		{"Nguyễn Phú Trọng", "nguyen-phu-trong"},
		{"e\u0301te\u0301", "ete"}, // combining marks in the input

		// Other scripts stay readable.
		{"Новости дня - РБК", "новости-дня-рбк"},
		{"Зеленський: мир можливий", "зеленський-мир-можливий"},
		{"Ёлка и йогурт", "ёлка-и-йогурт"},
		{"Ελληνικά Νέα", "ελληνικά-νέα"},
		{"中国新闻网", "中国新闻网"},
		{"がんばって ニュース", "がんばって-ニュース"},
		{"한국 뉴스 - 연합뉴스", "한국-뉴스-연합뉴스"},
		{"हिन्दी समाचार", "हिन्दी-समाचार"},
		{"עברית חדשות", "עברית-חדשות"},
		{"أخبار اليوم", "أخبار-اليوم"},
		{"Україна м'ясо", "україна-мясо"},

		// Compatibility forms fold to their plain letters.
		{"ﬁnance ①", "finance-1"},
		{"ＦＵＬＬ　ｗｉｄｔｈ", "full-width"},
		{"x² + y²", "x2-y2"},

		// Invisible and hostile input.
		{"co\u00adoperate", "cooperate"}, // soft hyphen
		{"a\u200bb", "ab"},               // zero-width space
		{"\ufeffBOM title", "bom-title"}, // byte order mark
		{"a\u3164b", "a-b"},              // Hangul filler
		{"../../etc/passwd", "etc-passwd"},
		{"..", "untitled"},
		{".hidden", "hidden"},
		{"a/b\\c", "a-b-c"},
		{"tab\x00nul\x1bctl\x7f", "tab-nul-ctl"},
		{"bad \xff\xfe utf8", "bad-utf8"},
		{"", "untitled"},
		{"!!! ??? ---", "untitled"},
		{"😀🎉", "untitled"},
		{"emoji 😀 news", "emoji-news"},
		{"C++ & C#", "c-c"},
		{"2026-01-04", "2026-01-04"},
	}
	for _, tt := range tests {
		if got := Slugify(tt.in); got != tt.want {
			t.Errorf("Slugify(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSlugifyLength(t *testing.T) {
	word := strings.Repeat("word ", 100) // 500 bytes of words
	long := strings.Repeat("a", 300)
	cyr := strings.Repeat("щ", 200) // 400 bytes, one word
	tests := []struct {
		in   string
		want string
	}{
		{word, strings.TrimSuffix(strings.Repeat("word-", 50), "-")}, // cut at the last "-" within 250 bytes
		{long, strings.Repeat("a", 250)},
		{cyr, strings.Repeat("щ", 125)},
		{"short " + long, "short-" + strings.Repeat("a", 244)}, // the "-" is too early to cut at
		{strings.Repeat("ab-", 100), strings.TrimSuffix(strings.Repeat("ab-", 83), "-")},
		// Under the cap: kept whole (the cap was 100 bytes, 50 Cyrillic letters).
		{strings.Repeat("щ", 120), strings.Repeat("щ", 120)},
	}
	for _, tt := range tests {
		got := Slugify(tt.in)
		if got != tt.want {
			t.Errorf("Slugify(%.20q…) = %q (%d bytes), want %q", tt.in, got, len(got), tt.want)
		}
		if len(got) > MaxSlugLen {
			t.Errorf("Slugify(%.20q…) is %d bytes, over %d", tt.in, len(got), MaxSlugLen)
		}
	}
	// Marks are not separated from their letter by the cut.
	deva := strings.Repeat("कि", 40) // क + vowel sign ि, 6 bytes each
	got := Slugify(deva)
	if r, _ := utf8.DecodeLastRuneInString(got); r != 'ि' || len(got) > MaxSlugLen {
		t.Errorf("Slugify(Devanagari run) = %q: cut inside a letter or too long", got)
	}
}

func TestValidSlug(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"why-security-guarantees-are-so-crucial-and-thorny-for-ukraine-the-new-york-times", true},
		{"новости-дня-рбк", true},
		{"a", true},
		{"", false},
		{"untitled", true},
		{"Upper-Case", false},
		{"trailing-", false},
		{"-leading", false},
		{"double--dash", false},
		{"../etc", false},
		{"a/b", false},
		{".hidden", false},
		{"under_score", false},
		{strings.Repeat("a", MaxSlugLen+1), false},
	}
	for _, tt := range tests {
		if got := ValidSlug(tt.in); got != tt.want {
			t.Errorf("ValidSlug(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestCollisionSlug(t *testing.T) {
	base := ArticleSlug("Some Story", "Some Paper")
	a := CollisionSlug(base, "https://a.example/story")
	b := CollisionSlug(base, "https://b.example/story")
	if a == b {
		t.Fatalf("different keys gave the same slug %q", a)
	}
	if a != CollisionSlug(base, "https://a.example/story") {
		t.Fatal("CollisionSlug is not deterministic")
	}
	// sha256("https://a.example/story") starts with these 16 hex digits.
	if want := base + "-" + sha256Prefix("https://a.example/story"); a != want {
		t.Fatalf("CollisionSlug = %q, want %q", a, want)
	}
	long := CollisionSlug(strings.Repeat("word-", 60), "k")
	if len(long) > MaxSlugLen || !ValidSlug(long) || !strings.HasSuffix(long, "-"+sha256Prefix("k")) {
		t.Fatalf("CollisionSlug(long) = %q (%d bytes): over the cap, invalid or lost its suffix", long, len(long))
	}
	if got := CollisionSlug("", "k"); got != "untitled-"+sha256Prefix("k") {
		t.Fatalf("CollisionSlug(\"\") = %q", got)
	}
}

// checkSlug fails t if s breaks an invariant every slug must keep.
func checkSlug(t *testing.T, in, s string) {
	t.Helper()
	switch {
	case s == "":
		t.Fatalf("Slugify(%q) is empty", in)
	case len(s) > MaxSlugLen:
		t.Fatalf("Slugify(%q) = %q is %d bytes", in, s, len(s))
	case !utf8.ValidString(s):
		t.Fatalf("Slugify(%q) = %q is not valid UTF-8", in, s)
	case strings.Contains(s, "/") || strings.Contains(s, "\\") || strings.Contains(s, ".."):
		t.Fatalf("Slugify(%q) = %q holds a path separator or ..", in, s)
	case strings.HasPrefix(s, ".") || strings.HasPrefix(s, "-") || strings.HasSuffix(s, "-"):
		t.Fatalf("Slugify(%q) = %q starts with . or - or ends with -", in, s)
	case strings.Contains(s, "--"):
		t.Fatalf("Slugify(%q) = %q holds --", in, s)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) || unicode.IsUpper(r) {
			t.Fatalf("Slugify(%q) = %q holds %U", in, s, r)
		}
	}
}

// FuzzSlugify: Slugify, CollisionSlug and ArticleSlug always give a slug
// (non-empty, at most MaxSlugLen bytes, valid UTF-8, lower case, no "/",
// "\", "..", control or format characters, no leading dot or dash) that makes
// valid storage keys, without allocating out of proportion; Slugify is
// idempotent; and ValidSlug accepts nothing less safe.
//
//	go test ./storage/record -run '^$' -fuzz '^FuzzSlugify$' -fuzztime 60s
func FuzzSlugify(f *testing.F) {
	f.Add("Why Security Guarantees Are So Crucial, and Thorny, for Ukraine - The New York Times")
	f.Add("Новости дня - РБК")
	f.Fuzz(func(t *testing.T, in string) {
		var s, c, a string
		fuzzcheck.MaxAlloc(t, uint64(64*len(in)), "Slugify", func() {
			s = Slugify(in)
			c = CollisionSlug(s, in)
			a = ArticleSlug(in, in)
		})
		checkSlug(t, in, s)
		if again := Slugify(s); again != s {
			t.Fatalf("Slugify is not idempotent: %q -> %q -> %q", in, s, again)
		}
		if !ValidSlug(s) {
			t.Fatalf("ValidSlug(Slugify(%q) = %q) = false", in, s)
		}
		checkSlug(t, in, c)
		checkSlug(t, in, a)
		for _, x := range []string{s, c, a} {
			checkStorable(t, in, x)
		}
		// The viewer takes slugs from URLs and trusts ValidSlug: whatever it
		// accepts must be as safe as what Slugify makes.
		if ValidSlug(in) {
			checkSlug(t, in, in)
			checkStorable(t, in, in)
		}
	})
}

func BenchmarkSlugify(b *testing.B) {
	inputs := []struct{ name, in string }{
		{"ascii", "Why Security Guarantees Are So Crucial, and Thorny, for Ukraine - The New York Times"},
		{"latin", "Dvořák, Łódź and the Straße: Ørsted's café crème - Süddeutsche Zeitung"},
		{"cyrillic", "Зеленский заявил о гарантиях безопасности для Украины - РБК"},
	}
	// The baseline is the least a slugifier must do (lower-case and join the
	// words), so Slugify's cost reads as a ratio against it.
	b.Run("baseline-ascii", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(inputs[0].in)))
		for b.Loop() {
			_ = strings.Join(strings.Fields(strings.ToLower(inputs[0].in)), "-")
		}
	})
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.in)))
			for b.Loop() {
				Slugify(in.in)
			}
		})
	}
}

func sha256Prefix(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:CollisionHexLen/2])
}

func TestCollisionSlugRounds(t *testing.T) {
	base := ArticleSlug("Story", "Paper")
	seen := map[string]bool{}
	for round := 1; round <= 5; round++ {
		s := CollisionSlugRound(base, "url:https://p.example/a/B", round)
		if seen[s] || !ValidSlug(s) || !strings.HasPrefix(s, base+"-") || len(s) != len(base)+1+CollisionHexLen {
			t.Fatalf("round %d gave %q: repeated, invalid or not base plus %d hex digits", round, s, CollisionHexLen)
		}
		seen[s] = true
	}
	if CollisionSlugRound(base, "k", 1) != CollisionSlug(base, "k") {
		t.Fatal("round 1 is not CollisionSlug")
	}
	// The 8-digit form of earlier versions is still computed, for articles
	// stored under it.
	sum := sha256.Sum256([]byte("k"))
	if got, want := LegacyCollisionSlug(base, "k"), base+"-"+hex.EncodeToString(sum[:4]); got != want {
		t.Fatalf("LegacyCollisionSlug = %q, want %q", got, want)
	}
}

func TestLegacyArticleSlug(t *testing.T) {
	short, ok := LegacyArticleSlug("Short title", "Paper")
	if ok || short != "short-title-paper" {
		t.Fatalf("LegacyArticleSlug(short) = %q, %v; want the same slug and false", short, ok)
	}
	title := strings.Repeat("Новости дня ", 12) // 12 × 22 bytes: over the old 100-byte cap
	legacy, ok := LegacyArticleSlug(title, "РБК")
	now := ArticleSlug(title, "РБК")
	if !ok || len(legacy) > LegacyMaxSlugLen || !strings.HasPrefix(now, legacy) || legacy == now {
		t.Fatalf("LegacyArticleSlug = %q (%v), ArticleSlug = %q: want the 100-byte cut of it", legacy, ok, now)
	}
}
