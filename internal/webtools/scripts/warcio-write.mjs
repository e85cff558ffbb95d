// warcio-write.mjs FILE: writes a gzip-per-record WARC with warcio.js, as
// Browsertrix and ReplayWeb.page's own archiving write them: a warcinfo
// record, then a response and a resource with SHA-256 digests, then a
// response with SHA-1 digests in Base32 (the digest older crawlers write),
// so that linkarc's reader can be checked on files it did not write.
import fs from "node:fs";
import { WARCRecord, WARCSerializer } from "warcio";

const out = fs.createWriteStream(process.argv[2]);
const date = "2024-05-06T07:08:09.123Z";
async function* body(s) {
  yield new TextEncoder().encode(s);
}
const records = [
  [WARCRecord.createWARCInfo({ filename: "theirs.warc.gz", warcVersion: "WARC/1.1" }, { software: "warcio.js" }), {}],
  [WARCRecord.create({ url: "https://example.org/page", date, type: "response", warcVersion: "WARC/1.1",
      httpHeaders: { "Content-Type": "text/html; charset=utf-8" } }, body("<p>written by warcio.js</p>")), {}],
  [WARCRecord.create({ url: "https://example.org/notes.txt", date, type: "resource", warcVersion: "WARC/1.1",
      warcHeaders: { "Content-Type": "text/plain" } }, body("a resource")), {}],
  [WARCRecord.create({ url: "https://example.org/old", date, type: "response", warcVersion: "WARC/1.1",
      httpHeaders: { "Content-Type": "text/plain" } }, body("sha-1, base32")),
    { digest: { algo: "sha-1", prefix: "sha1:", base32: true } }],
];
for (const [record, opts] of records) {
  out.write(await WARCSerializer.serialize(record, { gzip: true, ...opts }));
}
out.end();
await new Promise((resolve) => out.on("finish", resolve));
