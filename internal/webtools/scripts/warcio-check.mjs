// warcio-check.mjs FILE...: reads WARC files with warcio.js, the WARC library
// ReplayWeb.page reads archives with, and prints one JSON object per line:
//   {"pass":"raw", ...}      every record, its payload hashed as stored,
//                            with the declared WARC-Payload-Digest decoded
//                            (Base16 or Base32) and compared;
//   {"pass":"content", ...}  every response, its payload decoded the way a
//                            replay decodes it (content coding undone);
//   {"pass":"cdxj","line":…} warcio's own CDXJ index of the file.
// The Go tests (archive/warc, archive/wacz) judge the output.
import fs from "node:fs";
import crypto from "node:crypto";
import { WARCParser, CDXIndexer } from "warcio";

const sizes = { sha1: 20, sha256: 32, sha512: 64, md5: 16 };

function base32Decode(s) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0, value = 0;
  const out = [];
  for (const c of s.toUpperCase().replace(/=+$/, "")) {
    const i = alphabet.indexOf(c);
    if (i < 0) throw new Error(`not Base32: ${s}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

// decodeDigest splits "sha256:…" into a node hash name and the digest bytes.
function decodeDigest(labelled) {
  const i = labelled.indexOf(":");
  const alg = labelled.slice(0, i).toLowerCase().replace("-", "");
  const value = labelled.slice(i + 1);
  const size = sizes[alg];
  if (!size) throw new Error(`unknown digest algorithm in ${labelled}`);
  const bytes = value.length === 2 * size ? Buffer.from(value, "hex") : base32Decode(value);
  return { alg, bytes };
}

function print(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

for (const file of process.argv.slice(2)) {
  const parser = new WARCParser(fs.createReadStream(file));
  for await (const record of parser) {
    const declared = record.warcPayloadDigest || "";
    const alg = declared ? decodeDigest(declared).alg : "sha256";
    const hash = crypto.createHash(alg);
    let length = 0;
    for await (const chunk of record.reader) {
      hash.update(chunk);
      length += chunk.length;
    }
    const computed = hash.digest();
    print({
      pass: "raw",
      file,
      offset: parser.offset,
      type: record.warcType,
      id: record.warcHeader("WARC-Record-ID"),
      uri: record.warcTargetURI || "",
      date: record.warcDate || "",
      status: record.httpHeaders ? record.httpHeaders.statusCode : 0,
      httpContentEncoding: record.httpHeaders ? record.httpHeaders.headers.get("content-encoding") || "" : "",
      httpTransferEncoding: record.httpHeaders ? record.httpHeaders.headers.get("transfer-encoding") || "" : "",
      refersToURI: record.warcRefersToTargetURI || "",
      refersToDate: record.warcRefersToDate || "",
      profile: record.warcHeader("WARC-Profile") || "",
      truncated: record.warcHeader("WARC-Truncated") || "",
      concurrentTo: record.warcHeader("WARC-Concurrent-To") || "",
      payloadLength: length,
      payloadDigest: declared,
      payloadDigestOK: declared ? decodeDigest(declared).bytes.equals(computed) : null,
    });
  }

  const content = new WARCParser(fs.createReadStream(file));
  for await (const record of content) {
    if (record.warcType !== "response") {
      await record.skipFully();
      continue;
    }
    const body = await record.readFully(true);
    print({
      pass: "content",
      file,
      uri: record.warcTargetURI,
      contentLength: body.length,
      contentSha256: crypto.createHash("sha256").update(body).digest("hex"),
    });
  }

  const indexer = new CDXIndexer({ format: "cdxj" });
  for await (const cdx of indexer.iterIndex([{ filename: file.split("/").pop(), reader: fs.createReadStream(file) }])) {
    print({ pass: "cdxj", file, line: indexer.serializeCDXJ(cdx).trimEnd() });
  }
}
