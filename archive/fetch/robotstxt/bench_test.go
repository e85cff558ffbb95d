package robotstxt

import (
	"fmt"
	"os"
	"strings"
	"testing"

	temoto "github.com/temoto/robotstxt"
)

// benchPaths are request paths an archiver asks about: articles, a query
// with tracking parameters, a Cyrillic section, an AMP page.
var benchPaths = []string{
	"/world/2026/jan/04/ukraine-talks-resume",
	"/politics/live/2026/jan/04/budget-vote?utm_source=rss&utm_medium=feed",
	"/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/%D0%B0%D1%80%D1%85%D0%B8%D0%B2/2025/12/31",
	"/technology/2026/jan/03/chip-export-rules/amp",
	"/science/2026/jan/02/comet-flyby",
	"/search?q=election",
	"/sport/football/2026/jan/04/match-report/print",
	"/",
}

// bigRobots is a robots.txt near the parsing limit: many groups and
// thousands of wildcard rules.
func bigRobots() []byte {
	var b strings.Builder
	for g := 0; b.Len() < MaxBytes-4096; g++ {
		fmt.Fprintf(&b, "User-agent: bot%c%c\n", 'a'+g%26, 'a'+g/26%26)
		if g%10 == 0 {
			b.WriteString("User-agent: *\n")
		}
		for i := 0; i < 40; i++ {
			fmt.Fprintf(&b, "Disallow: /section-%d/*/item-%d$\nAllow: /section-%d/public-%d/\n", g, i, g, i)
		}
	}
	return []byte(b.String())
}

func benchInputs(b *testing.B) map[string][]byte {
	news, err := os.ReadFile("testdata/news.txt")
	if err != nil {
		b.Fatal(err)
	}
	return map[string][]byte{"news-3KiB": news, "big-500KiB": bigRobots()}
}

// BenchmarkParse compares parsing with github.com/temoto/robotstxt, the
// library the fetcher used before, in the same run:
//
//	go test ./archive/fetch/robotstxt -run '^$' -bench . -benchmem
func BenchmarkParse(b *testing.B) {
	for name, body := range benchInputs(b) {
		b.Run(name+"/linkarc", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				Parse(body)
			}
		})
		b.Run(name+"/temoto", func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := temoto.FromBytes(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAllowed compares one decision on parsed rules (per path, for
// the linkarc product token and for an agent that falls back to *).
func BenchmarkAllowed(b *testing.B) {
	for name, body := range benchInputs(b) {
		ours := Parse(body)
		theirs, err := temoto.FromBytes(body)
		if err != nil {
			b.Fatal(err)
		}
		for _, agent := range []string{"linkarc", "Googlebot"} {
			b.Run(name+"/"+agent+"/linkarc", func(b *testing.B) {
				for b.Loop() {
					for _, p := range benchPaths {
						ours.Allowed(agent, p)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(benchPaths)), "ns/path")
			})
			b.Run(name+"/"+agent+"/temoto", func(b *testing.B) {
				for b.Loop() {
					g := theirs.FindGroup(agent)
					for _, p := range benchPaths {
						g.Test(p)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(benchPaths)), "ns/path")
			})
		}
	}
}
