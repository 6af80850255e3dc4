// warc_records.mjs FILE...: every record of each WARC file (plain or one gzip member per record) as one
// JSON line, read by webrecorder's warcio, with the digests recomputed here rather than taken on trust.
// Install and find it with scripts/warcio.sh DIR; run it as `node DIR/warc_records.mjs FILE...`.
//
// Each line: {"file", "offset" (of the record, or of its gzip member), "type", "target_uri", "record_id",
// "date", "concurrent_to" (a list), "refers_to", "refers_to_target_uri", "content_type" (the record's),
// "http_status", "http_content_type", "http_content_encoding", "http_transfer_encoding" (null without
// HTTP headers), "payload_digest" (WARC-Payload-Digest, as claimed), "payload_sha1", "payload_length", "block_digest_ok", "payload_digest_ok",
// "payload_digest_of", "truncated"}.
//
// The payload is what warcio yields as the record's raw payload (readFully(false): the bytes after the
// HTTP headers), with the chunked framing removed by warcio's own de-chunker when Transfer-Encoding says
// chunked, and the content coding kept: the HTTP entity body that WARC 1.1 digests. warcio's decoded
// reading (readFully(true)) would also gunzip it, and passes br and zstd bodies through undecoded.
// payload_sha1 is "sha1:" and the base32 SHA-1 of that payload, payload_length its size.
// block_digest_ok: whether WARC-Block-Digest (sha1, sha256, sha512 or md5; base32 or hex) matches the
// block hashed here. payload_digest_ok: whether WARC-Payload-Digest matches the payload hashed here,
// either convention in use: "payload_digest_of" says which it matched, "entity" (the de-chunked body
// above, WARC 1.1's definition) or "raw" (the bytes after the HTTP headers, chunked framing and all:
// what wget writes). The two differ only for a chunked body; "entity" is named when both match.
// All three are null without the header, and for a revisit, whose digest is the earlier record's
// payload. truncated: the record's WARC-Truncated value ("length", ...), null without one.
//
// A torn file (cut inside its last record, or inside the gzip member holding it): the records before
// the tear are printed, then a last line {"torn": true, "file", "offset" (where the torn record starts),
// "reason"}, and the exit status is still 0. Status 1: a file that cannot be read, or that warcio cannot
// parse before any tear; 2: no files given.
import crypto from "node:crypto";
import fs from "node:fs";
import { pipeline } from "node:stream/promises";
import zlib from "node:zlib";

import { AsyncIterReader, WARCParser } from "warcio";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32Encode(bytes) {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;  // keep only the bits not yet written, so `value` never overflows
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

function base32Decode(text) {
  const clean = text.toUpperCase().replace(/=+$/, "");
  const out = [];
  let bits = 0;
  let value = 0;
  for (const c of clean) {
    const v = BASE32.indexOf(c);
    if (v < 0) return null;
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
      value &= (1 << bits) - 1;
    }
  }
  return Buffer.from(out);
}

// Whether a WARC digest header ("sha1:BASE32", or hex) matches `data`; null without a header.
function digestMatches(header, data) {
  if (!header) return null;
  const colon = header.indexOf(":");
  if (colon < 0) return false;
  const algorithm = header.slice(0, colon).trim().toLowerCase().replace("-", "");
  const claimed = header.slice(colon + 1).trim();
  if (!["sha1", "sha256", "sha512", "md5"].includes(algorithm)) return false;
  const actual = crypto.createHash(algorithm).update(data).digest();
  const expected = /^[0-9a-fA-F]+$/.test(claimed) && claimed.length === actual.length * 2
                       ? Buffer.from(claimed, "hex")
                       : base32Decode(claimed);
  return expected !== null && expected.equals(actual);
}

function isChunked(transferEncoding) {
  if (!transferEncoding) return false;
  const codings = transferEncoding.split(",").map((s) => s.trim().toLowerCase()).filter((s) => s);
  return codings.length > 0 && codings[codings.length - 1] === "chunked";
}

function isGzipFile(file) {
  const fd = fs.openSync(file, "r");
  const head = Buffer.alloc(2);
  const n = fs.readSync(fd, head, 0, 2, 0);
  fs.closeSync(fd);
  return n === 2 && head[0] === 0x1f && head[1] === 0x8b;
}

// Whether the whole file inflates: a torn last member fails here even when warcio reads all it can.
async function gzipIsWhole(file) {
  try {
    await pipeline(fs.createReadStream(file), zlib.createGunzip(), async function* (source) {
      for await (const _ of source) { /* drain */ }
    });
    return null;
  } catch (e) {
    return e.message;
  }
}

function endsWithRecordSeparator(file) {
  const size = fs.statSync(file).size;
  if (size < 4) return false;
  const fd = fs.openSync(file, "r");
  const tail = Buffer.alloc(4);
  fs.readSync(fd, tail, 0, 4, size - 4);
  fs.closeSync(fd);
  return tail.toString("latin1") === "\r\n\r\n";
}

// Pass 1, without HTTP parsing: each record's offset, WARC headers and whole block, to hash the block
// as it is stored. Stops at the first record whose block is shorter than its Content-Length.
async function readBlocks(file) {
  const parser = new WARCParser(fs.createReadStream(file), { parseHttp: false });
  const blocks = [];
  let torn = null;
  try {
    for await (const record of parser) {
      const offset = parser.offset;
      const length = record.warcHeader("Content-Length");
      if (!record.warcType || length === null || length === undefined) {
        if (blocks.length === 0 && !record.warcType) throw new Error("not a WARC file: no WARC-Type in its first record");
        torn = { offset, reason: "record headers cut short" };
        break;
      }
      const block = Buffer.from(await record.readFully(false));
      if (block.length < Number(length)) {
        torn = { offset, reason: `block cut short: ${block.length} of ${length} bytes` };
        break;
      }
      blocks.push({ offset, block });
    }
  } catch (e) {
    if (blocks.length === 0) throw e;
    torn = { offset: parser.offset, reason: `warcio: ${e.message}` };
  }
  return { blocks, torn };
}

// Pass 2, as a reader of the archive sees it: warcio's record and HTTP parsing, for `count` records.
async function readRecords(file, count) {
  const parser = new WARCParser(fs.createReadStream(file));
  const out = [];
  for await (const record of parser) {
    if (out.length === count) break;
    const http = record.httpHeaders;
    const raw = http ? Buffer.from(await record.readFully(false)) : null;
    let payload = raw;
    const transferEncoding = http ? http.headers.get("Transfer-Encoding") : null;
    if (raw && isChunked(transferEncoding)) {
      payload = Buffer.from(await new AsyncIterReader([raw], null, true).readFully());
    }
    out.push({ record, http, raw, payload, transferEncoding });
  }
  return out;
}

async function dump(file) {
  const { blocks, torn: shortBlock } = await readBlocks(file);
  let torn = shortBlock;
  if (!torn && blocks.length > 0) {
    const last = blocks[blocks.length - 1];
    if (isGzipFile(file)) {
      const why = await gzipIsWhole(file);
      if (why) torn = { offset: last.offset, reason: `gzip member cut short: ${why}` };
    } else if (!endsWithRecordSeparator(file)) {
      torn = { offset: last.offset, reason: "the last record lacks its closing CRLF CRLF" };
    }
    if (torn) blocks.pop();
  }
  const records = await readRecords(file, blocks.length);
  if (records.length !== blocks.length) {
    throw new Error(`warcio read ${records.length} records with HTTP parsing and ${blocks.length} without`);
  }
  for (let i = 0; i < records.length; ++i) {
    const { record, http, transferEncoding } = records[i];
    const { offset, block } = blocks[i];
    // Without HTTP headers (warcinfo, metadata, resource) the payload is the block itself.
    const payload = records[i].payload ?? block;
    const type = record.warcType;
    let payloadDigestOk = null;
    let payloadDigestOf = null;
    if (type !== "revisit" && record.warcPayloadDigest) {
      if (digestMatches(record.warcPayloadDigest, payload)) {
        payloadDigestOf = "entity";
      } else if (records[i].raw && digestMatches(record.warcPayloadDigest, records[i].raw)) {
        payloadDigestOf = "raw";
      }
      payloadDigestOk = payloadDigestOf !== null;
    }
    const status = http && (type === "response" || type === "revisit") ? Number(http.statusCode) : null;
    console.log(JSON.stringify({
      file,
      offset,
      type,
      target_uri: record.warcTargetURI ?? null,
      record_id: record.warcHeader("WARC-Record-ID") ?? null,
      date: record.warcDate ?? null,
      concurrent_to: record.warcConcurrentTo.map((s) => s.trim()).filter((s) => s),
      refers_to: record.warcHeader("WARC-Refers-To") ?? null,
      refers_to_target_uri: record.warcRefersToTargetURI ?? null,
      content_type: record.warcContentType ?? null,
      http_status: Number.isFinite(status) ? status : null,
      http_content_type: http ? http.headers.get("Content-Type") : null,
      http_content_encoding: http ? http.headers.get("Content-Encoding") : null,
      http_transfer_encoding: transferEncoding ?? null,
      payload_digest: record.warcPayloadDigest ?? null,
      payload_sha1: "sha1:" + base32Encode(crypto.createHash("sha1").update(payload).digest()),
      payload_length: payload.length,
      block_digest_ok: digestMatches(record.warcBlockDigest, block),
      payload_digest_ok: payloadDigestOk,
      payload_digest_of: payloadDigestOf,
      truncated: record.warcHeader("WARC-Truncated") ?? null,
    }));
  }
  if (torn) console.log(JSON.stringify({ torn: true, file, offset: torn.offset, reason: torn.reason }));
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node warc_records.mjs FILE...");
  process.exit(2);
}
for (const file of files) {
  try {
    await dump(file);
  } catch (e) {
    console.error(`warc_records: ${file}: ${e.message}`);
    process.exit(1);
  }
}
