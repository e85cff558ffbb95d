// Package record is the one owner of linkarc's archive format: what the
// objects of a store are called and what they hold. The blob store
// (package storage) only keeps bytes under keys; this package says which
// keys an archive has and what the JSON under them means, so that the
// archiver, the resolver's cache and the viewer read and write one format.
//
// Other tools read archives too, so the format changes only compatibly:
// new fields and new reason values, never renamed ones.
//
//	articles/<slug>/meta.json                     ArticleMeta, written last
//	articles/<slug>/raw.html                      the page exactly as received
//	articles/<slug>/readable.html                 readable HTML (UTF-8)
//	articles/<slug>/text.txt                      plain text (UTF-8)
//	articles/<slug>/history/<capture-id>/...      earlier captures, same four names
//	digests/<digest-slug>.json                    DigestRecord, one per listing (SameListing)
//	digests/<digest-slug>/<n>.json                DigestPart: the rest of a digest too large for one record
//	aliases/<old-slug>.json                       Alias: an article merged into another (linkarc dedupe)
//	index/urls/<sha256 of the URL>.json           URLIndexEntry: the article holding a canonical URL
//	leases/articles/<slug>.json                   the lease of the run writing the article (Leaser)
//	leases/digests/<digest-slug>.json             the lease of the run writing the digest record
//	cache/gnews/<sha256 of the id>.json           the resolver's cache of Google News ids (GNewsCacheKey)
//	cache/links/<sha256 of the link>.json         the resolver's cache of short links (LinkCacheKey)
//
// Every record is bounded (bounds.go) so that none is larger than its
// readers accept (MaxRecordSize), and Verify checks that each meta.json
// describes the objects beside it.
package record
