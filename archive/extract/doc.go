// Package extract finds the article in a fetched page and judges whether the
// page is the article at all.
//
// Extract returns the readable text and HTML (readability's article, pruned
// of the blocks no second opinion confirms: trafilatura's reading and the
// page's own schema.org articleBody, see extract_combine.go) and the
// article's metadata from the best source the page offers (JSON-LD, Open
// Graph, <meta>, see metadata.go). DetectJunk then tells a bot challenge, a
// consent wall, a soft 404, a paywall stub or an empty page from an article
// (junk.go). Neither fetches anything: they take a page as UTF-8 bytes
// (see package charset) and its URL.
package extract
