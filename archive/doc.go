// Package archive is linkarc's batch pipeline: it turns folders of news
// digests into a durable archive. The work itself is done by the packages
// below it; this one plans a run, keeps the publishers' hosts apart, and
// reports.
//
// A Run, in the order a reader meets it:
//
//	Run (archive.go)
//	 ─► digests found and parsed: digest.Find, digest.Read
//	 ─► plan (plan.go): publisher links at once, Google News links as
//	    resolver.Stream answers them (offline and cached ids at once, the
//	    others batch by batch), merged when they lead to one publisher URL,
//	    given their slugs (slugs.go), and skipped when the store already
//	    holds them ok; fetching starts with the first link known
//	 ─► one queue per publisher host, hosts in parallel (host.go)
//	 ─► fetch.Fetcher.Fetch: robots.txt, politeness, redirects, retries,
//	    every exchange recorded into the capture's WARC (capture.go,
//	    fetch.Recording)
//	 ─► the page's requisites (package requisite), fetched with
//	    fetch.Fetcher.FetchAsset under per-page caps, once per run, revisits
//	    for what the run or the store already holds; meanwhile the host's
//	    queue goes on to its next page
//	 ─► Options.Extractor: extract.Extract, then extract.DetectJunk, in a
//	    worker process under a time and memory budget (extract.Pool, as
//	    linkarc archive runs it) or in process (extract.InProcess)
//	 ─► the self-contained page and the lead image's thumbnail, derived
//	    from the WARC (singlepage.Capture, in captureObjects), revisits
//	    followed into the WARCs holding their originals
//	 ─► record.Writer.Write: content objects, the WARC, page.html and
//	    thumb.jpg (captureObjects), history, meta.json last; then the
//	    requisites' index entries
//	 ─► digest records, and the Report (report.go) and progress (progress.go:
//	    the stages, resolving, fetching and stored, from the first second)
//
// An interrupt (ctx ends) stops fetching and asking Google, but what was
// received is kept: the signatures collected are posted and their answers
// cached (resolver.Stream), pages already fetched are stored and the
// digest records written, within Options.Grace. DryRun (dryrun.go) says
// what a run would do without a request.
//
// A store failure stops the run (nothing more is fetched); everything else,
// from a broken digest to a page that failed, goes into the Report and the
// batch goes on.
package archive
