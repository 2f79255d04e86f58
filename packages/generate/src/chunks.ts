// The extra RIFF chunks real RAVDESS WAVs carry (from their Pro Tools export), rebuilt so that
// readers meet the same quirks: `FLLR` filler before `data` so that the samples start at byte
// 4096, and after `data` a `LIST/INFO`, a Broadcast Wave `bext` and an XMP `_PMX` chunk (the
// latter with a text-dependent, often odd, size: encodeWav adds the RIFF pad byte).

import type { WavChunk } from '@ser/audio';

const enc = new TextEncoder();

/** Payload size of the `FLLR` chunk that puts the first sample at byte `dataStart`, given a
 *  `fmt ` payload of `fmtSize` bytes: 12 (RIFF header) + 8 + fmt + 8 + fllr + 8 (data header). */
export function fllrSize(fmtSize = 16, dataStart = 4096): number {
  const n = dataStart - 12 - (8 + fmtSize) - 8 - 8;
  if (n < 0) throw new Error(`fllrSize: data cannot start at ${dataStart}`);
  return n;
}

/** Zero-filled `FLLR` chunk (4044 bytes for a 16-byte `fmt `, as in RAVDESS). */
export function fllrChunk(fmtSize = 16, dataStart = 4096): WavChunk {
  return { id: 'FLLR', bytes: new Uint8Array(fllrSize(fmtSize, dataStart)), where: 'before' };
}

/** Concatenate byte arrays. */
function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** `LIST` chunk of type `INFO` with zero-terminated text sub-chunks (each padded to even size). */
export function listInfoChunk(info: Record<string, string>): WavChunk {
  const parts: Uint8Array[] = [enc.encode('INFO')];
  for (const [id, text] of Object.entries(info)) {
    const body = enc.encode(text + '\0');
    const head = new Uint8Array(8);
    head.set(enc.encode(id.padEnd(4).slice(0, 4)), 0);
    new DataView(head.buffer).setUint32(4, body.length, true);
    parts.push(head, body);
    if (body.length & 1) parts.push(new Uint8Array(1));
  }
  return { id: 'LIST', bytes: concat(parts), where: 'after' };
}

/** Broadcast Wave (EBU Tech 3285 v1) `bext` chunk: 602 fixed bytes + coding history text. */
export function bextChunk(f: { description: string; originator: string; reference: string; date: string; time: string; codingHistory: string }): WavChunk {
  const hist = enc.encode(f.codingHistory);
  const b = new Uint8Array(602 + hist.length);
  const put = (s: string, at: number, len: number): void => b.set(enc.encode(s).subarray(0, len), at);
  put(f.description, 0, 256);
  put(f.originator, 256, 32);
  put(f.reference, 288, 32);
  put(f.date, 320, 10); // yyyy-mm-dd
  put(f.time, 330, 8); // hh:mm:ss
  // TimeReference (8 bytes) stays 0; Version = 1; UMID, loudness and reserved stay 0.
  new DataView(b.buffer).setUint16(346, 1, true);
  b.set(hist, 602);
  return { id: 'bext', bytes: b, where: 'after' };
}

/** Adobe XMP packet chunk `_PMX` (plain XML text, no terminator: its size is often odd). */
export function pmxChunk(xml: string): WavChunk {
  return { id: '_PMX', bytes: enc.encode(xml), where: 'after' };
}

/** The RAVDESS-like chunk set for one file: `stem` is the file name without `.wav`,
 *  `actor` 1..24, `take` an index giving distinct but deterministic timestamps; `sampleRate` (Hz)
 *  and `channels` only go into the coding-history text. */
export function ravdessChunks(stem: string, actor: number, take: number, sampleRate = 48000, channels = 1): WavChunk[] {
  const day = 1 + (actor % 28);
  const date = `2016-0${1 + (actor % 9)}-${String(day).padStart(2, '0')}`;
  const sec = 9 * 3600 + take * 37;
  const time = [Math.floor(sec / 3600), Math.floor(sec / 60) % 60, sec % 60].map((v) => String(v).padStart(2, '0')).join(':');
  const xml =
    `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>` +
    `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">` +
    `<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmpDM="http://ns.adobe.com/xmp/1.0/DynamicMedia/">` +
    `<dc:title>${stem}</dc:title><xmpDM:take>${take}</xmpDM:take></rdf:Description></rdf:RDF></x:xmpmeta>` +
    `<?xpacket end="w"?>`;
  return [
    fllrChunk(),
    listInfoChunk({ ISFT: 'Synthetic RAVDESS demo (ser-generate)', INAM: stem }),
    bextChunk({
      description: `Actor ${actor} ${stem}`,
      originator: 'ser-generate',
      reference: stem,
      date,
      time,
      codingHistory: `A=PCM,F=${sampleRate},W=16,M=${channels === 1 ? 'mono' : 'stereo'},T=ser-generate ${stem}\r\n`,
    }),
    pmxChunk(xml),
  ];
}
