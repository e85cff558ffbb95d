package resolver

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/resolver/gnewstest"
)

// Offline decoding of every old-format link of ids.tsv (full path: URL
// parsing, id extraction, base64, protobuf walk, URL validation).
//
//	go test ./resolver -run '^$' -bench 'Decode' -benchmem
func BenchmarkDecodeOffline(b *testing.B) {
	links := oldLinks(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		p := parseInput(links[i%len(links)])
		if p.env.Format != formatOld {
			b.Fatal("not decoded")
		}
	}
}

// BenchmarkDecodeOfflineBaseline is the floor the decoder is measured
// against: url.Parse-free base64 decoding of the same ids, nothing else.
func BenchmarkDecodeOfflineBaseline(b *testing.B) {
	var ids []string
	for _, l := range oldLinks(b) {
		ids = append(ids, strings.TrimSuffix(l[strings.LastIndex(l, "/")+1:], "?oc=5"))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := base64.RawURLEncoding.DecodeString(ids[i%len(ids)]); err != nil {
			b.Fatal(err)
		}
	}
}

func oldLinks(b *testing.B) []string {
	var links []string
	for _, row := range loadIDs(b) {
		if strings.HasPrefix(row.format, "old-embedded") {
			links = append(links, "https://news.google.com/rss/articles/"+row.id+"?oc=5")
		}
	}
	return links
}

// A 200-id run against the fake Google News (real HTTP on loopback, gzip,
// signed pages, shuffled framing-A answers), no spacing. Reports requests
// per run and wall time (ns/op). The batch=1 case (one POST per id) is the
// baseline batching is measured against.
//
//	go test ./resolver -run '^$' -bench 'ResolveBatch' -benchtime 20x
func BenchmarkResolveBatch200(b *testing.B) {
	for _, size := range []int{DefaultBatchSize, 1} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			f := newFake(b, gnewstest.Options{})
			links, urls := mint(f, nil, 200, "bench")
			b.ReportAllocs()
			b.ResetTimer()
			runs := 0
			for b.Loop() {
				r := newTestResolver(b, f, func(o *Options) { o.BatchSize = size })
				res := r.Resolve(bg(), links)
				if res[199].URL != urls[199] || res[0].URL != urls[0] {
					b.Fatalf("wrong result: %+v", res[199])
				}
				runs++
			}
			b.StopTimer()
			b.ReportMetric(float64(f.Count(gnewstest.KindArticle))/float64(runs), "GETs/op")
			b.ReportMetric(float64(f.Count(gnewstest.KindBatchexecute))/float64(runs), "POSTs/op")
			b.ReportMetric(float64(f.Total())/float64(runs), "requests/op")
		})
	}
}
