// A line of events.jsonl for an entry whose body retention removed: its sequence number, its
// leaf hash (still in the signed tree, so its inclusion proof checks against it) and the
// retention run that removed the body (an entry of the same report). Never confused with an
// audit entry: those always carry "v", "time" and the rest; this has exactly these four keys.
export interface PrunedLine {
  seq: number;
  /** RFC 6962 leaf hash, lowercase hex. */
  leafHash: string;
  /** Sequence number of the retention.run entry that removed the body. */
  retentionSeq: number;
}

const KEYS = ['leafHash', 'pruned', 'retentionSeq', 'seq'];

export function formatPrunedLine(p: PrunedLine): string {
  // Keys in RFC 8785 order, like every other line of the file.
  return JSON.stringify({ leafHash: p.leafHash, pruned: true, retentionSeq: p.retentionSeq, seq: p.seq });
}

/** The pruned-entry line's fields, or undefined when `line` is not one. */
export function parsePrunedLine(line: string): PrunedLine | undefined {
  if (!line.startsWith('{"leafHash":')) return undefined;
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof o !== 'object' || o === null || Object.keys(o).sort().join() !== KEYS.join() || o.pruned !== true) return undefined;
  const { seq, leafHash, retentionSeq } = o;
  if (!Number.isSafeInteger(seq) || (seq as number) < 0 || !Number.isSafeInteger(retentionSeq) || typeof leafHash !== 'string' || !/^[0-9a-f]{64}$/.test(leafHash)) return undefined;
  return { seq: seq as number, leafHash, retentionSeq: retentionSeq as number };
}
