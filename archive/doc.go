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
//	 ─► fetch.Fetcher.Fetch: robots.txt, politeness, redirects, retries
//	 ─► Options.Extractor: extract.Extract, then extract.DetectJunk, in a
//	    worker process under a time and memory budget (extract.Pool, as
//	    linkarc archive runs it) or in process (extract.InProcess)
//	 ─► record.Writer.Write: content objects, history, meta.json last
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
