// Reads inclusion-proofs.jsonl from its bytes. A report of 100,000 entries carries 115 MB of
// proofs, each line ending with the same checkpoint; decoding it all to one string and
// JSON.parse-ing every line cost a good part of verification. A line of the exact form the
// exporter writes (proofFile.ts) is recognised on its bytes: `{"seq":N,"tlogProof":"` and a
// head of plain characters and \n escapes, then the checkpoint the report's checkpoint.note
// holds, JSON-escaped, then `"}`. For such a line JSON.parse would give exactly {seq: N,
// tlogProof: head + "\n\n" + checkpoint}, so only the head is kept. Any other line is decoded
// and JSON.parse-d as before, with the same errors.

/** A proof as read: its head (the text before "\n\n" + the checkpoint), or the whole text. */
export type ReadProof = { head: string; proof?: undefined } | { proof: string; head?: undefined };

// Nothing JSON would unescape differently: no quote, no backslash but "\n", no control or non-ASCII character.
const FAST_LINE = /^\{"seq":(0|[1-9][0-9]{0,14}),"tlogProof":"((?:[A-Za-z0-9+/=.@: -]|\\n)*)$/;

/** seq -> proof, line by line as JSON.parse(line) would read them (the last of a seq given twice wins). */
export function readProofLines(bytes: Uint8Array, checkpoint: string): Map<number, ReadProof> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tail = Buffer.from(`${JSON.stringify(`\n\n${checkpoint}`).slice(1)}}`, 'utf8');
  const proofs = new Map<number, ReadProof>();
  let n = 0;
  for (let start = 0; start < buf.length; ) {
    let end = buf.indexOf(0x0a, start);
    if (end < 0) end = buf.length;
    if (end > start) {
      n++;
      const fast = end - start > tail.length && buf[start] === 0x7b && buf.compare(tail, 0, tail.length, end - tail.length, end) === 0 ? FAST_LINE.exec(buf.toString('latin1', start, end - tail.length)) : null;
      if (fast) proofs.set(Number(fast[1]), { head: fast[2]!.replaceAll('\\n', '\n') });
      else {
        const p = JSON.parse(buf.toString('utf8', start, end)) as { seq?: unknown; tlogProof?: unknown };
        if (typeof p.seq !== 'number' || typeof p.tlogProof !== 'string') throw new Error(`inclusion-proofs.jsonl line ${n} is malformed`);
        proofs.set(p.seq, { proof: p.tlogProof });
      }
    }
    start = end + 1;
  }
  return proofs;
}

/** The proof's whole text, as JSON.parse would have given it. */
export const proofText = (p: ReadProof, checkpoint: string): string => p.proof ?? `${p.head}\n\n${checkpoint}`;
