// Package warc writes and reads WARC 1.1 files, the web-archiving record
// format (ISO 28500:2017; the text followed is
// https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/,
// cited below as "WARC 1.1 §N"), and indexes them as CDXJ for pywb and
// ReplayWeb.page.
//
// Records are built, digested and serialised by github.com/nlnwa/gowarc/v3
// (the National Library of Norway's WARC library); this package adds the
// shapes linkarc writes, the streaming and size bounds, gzip-per-record
// framing with offsets, and the index.
//
// # What a Writer produces
//
//   - One gzip member per record (WARC 1.1 Annex D.2, "record-at-time
//     compression"), so that any record can be read from its offset alone.
//   - A 'warcinfo' record first (§6.2), naming the software and format and,
//     deliberately, not the machine (no hostname or ip field).
//   - For every HTTP exchange a 'response' record (§6.3) followed by its
//     'request' record (§6.5), adjacent and linked both ways with
//     WARC-Concurrent-To (§5.7), sharing one WARC-Date (§5.4: the instant the
//     request was sent), with WARC-IP-Address (§5.10) when known.
//   - A 'revisit' record (§6.7.2, profile identical-payload-digest) in place
//     of a response whose payload was archived before, keeping the response
//     head and pointing at the original with WARC-Refers-To,
//     WARC-Refers-To-Target-URI and WARC-Refers-To-Date (§5.11–5.13).
//   - 'metadata' (§6.6) and 'resource' (§6.4) records for what linkarc knows
//     besides the wire: a redirect chain, the link a capture was resolved
//     from, a derived file.
//
// Every record carries WARC-Block-Digest (§5.8) and, where the block has a
// payload, WARC-Payload-Digest (§5.9), both SHA-256 in lowercase Base16
// ("sha256:" and 64 hex digits): the WARC 1.1 community recommendation (#48,
// #80: Base32 would need '=' padding, which the digest-value grammar
// forbids), what warcio.js and Browsertrix write, and what warcio (Python),
// pywb and ReplayWeb.page read. WARC-Date has millisecond precision (§5.4
// allows up to nine fractional digits; JavaScript's Date, which ReplayWeb.page
// parses dates with, keeps three).
//
// # The response block
//
// The block of a response record is the status line and header fields as
// they were received, followed by the body as it crossed the wire after the
// transfer coding was removed and before any content coding was undone: a
// gzip-encoded page is stored gzip-encoded, with its Content-Encoding
// header. That body is the HTTP "entity-body", the payload the WARC payload
// digest is defined over (§5.9, §6.3.2; warc-specifications issue #22).
// Because a dechunked body no longer matches a "Transfer-Encoding: chunked"
// header, that header is kept under the name X-Crawler-Transfer-Encoding (the
// convention of Common Crawl, StormCrawler and Nutch) so that no reader tries
// to dechunk the stored body (pywb issue #584); no Content-Length is invented,
// so the message is delimited by the end of the record block, as every WARC
// reader reads it.
//
// # Feeding the writer
//
// One Writer per WARC file (linkarc writes one per capture). For every HTTP
// round trip of the capture (each redirect hop, robots.txt, each requisite,
// the link-resolving exchanges), the fetcher gives the Writer:
//
//   - Exchange.RequestHead: the request as sent. With net/http,
//     RequestHead(req) on the request handed to the transport, after every
//     header is set. Set Accept-Encoding on the request yourself: net/http
//     then leaves the body alone (otherwise it gunzips it and the bytes as
//     received are lost; ResponseHead reports ErrDecodedBody).
//   - Exchange.Date: the time the request was sent.
//   - Exchange.IP: the address actually connected to, from
//     httptrace.ClientTrace.GotConn (ci.Conn.RemoteAddr()), i.e. the
//     address the SSRF guard let through.
//   - Exchange.ResponseHead: ResponseHead(resp) as soon as the round trip
//     returns, before anything edits resp.Header.
//   - the body, through Response.Tee around resp.Body as net/http hands it
//     over (dechunked) and before any content decoder, so that the fetcher
//     reads, decodes and extracts as before while the raw bytes go to the
//     record. A body cut short is marked with Response.Truncate
//     (TruncatedLength at a size cap, TruncatedTime at a timeout,
//     TruncatedDisconnect on a broken connection); a body never read (a
//     refused Content-Length) is recorded empty with TruncatedLength.
//
// then Response.Commit. Begin/Commit may run from many goroutines; each
// response comes out immediately followed by its request. With
// Options.Dedup set to one DedupIndex shared by the run, a payload met
// again is written as a revisit whose Original names the WARC holding it
// (Original.Filename): a WACZ of a capture must then include that WARC too.
//
// # Bounds
//
// A record block is assembled in a spill buffer: at most Options.MemoryLimit
// bytes of it are held in memory, the rest in a temporary file that is
// removed when the record is written. A 16 MiB body therefore costs about
// MemoryLimit of memory however it arrives. An open Writer holds no gzip
// compressor between records (about 1 MiB each): it borrows one from a
// pool shared by every Writer for each record, so the WARCs of the
// captures in flight cost little while they wait on the network. A block
// larger than Options.MaxBlockBytes is refused, and so are heads over
// DefaultMaxHeaderBytes (256 KiB, Chromium's limit) and target URIs over
// MaxTargetURIBytes (32 KiB). The Reader bounds every header it reads
// (ReaderOptions.MaxWARCHeaderBytes, 64 KiB, and MaxHTTPHeadBytes, 256 KiB)
// and every block (ReaderOptions.MaxBlockBytes, 256 MiB) before a byte of it
// is buffered, and verifies a block in the same kind of spill buffer: the
// worst headers within the bounds cost about 6 MiB of short-lived
// allocations, a block about MemoryLimit.
package warc
