// The report manifest: a C2SP signed note whose text lists, one line per file, the hex SHA-256
// and the relative path of every other file of the report, signed by the device key.
import { createHash } from 'node:crypto';

export const MANIFEST_FILE = 'manifest';
export const MANIFEST_HEADER = 'custody report manifest v1';

export const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export function manifestText(files: ReadonlyMap<string, Uint8Array>): string {
  const lines = [...files.keys()].sort().map((path) => `${sha256Hex(files.get(path)!)} ${path}`);
  return [MANIFEST_HEADER, ...lines].join('\n') + '\n';
}

/** Parses manifest text into path -> hex SHA-256; throws on any malformed line. */
export function parseManifest(text: string): Map<string, string> {
  const lines = text.replace(/\n$/, '').split('\n');
  if (lines[0] !== MANIFEST_HEADER) throw new Error(`the manifest must start with "${MANIFEST_HEADER}"`);
  const out = new Map<string, string>();
  for (const [i, line] of lines.slice(1).entries()) {
    const m = /^([0-9a-f]{64}) ([A-Za-z0-9._/-]+)$/.exec(line);
    if (!m || m[2]!.split('/').includes('..')) throw new Error(`manifest line ${i + 2} is malformed`);
    if (out.has(m[2]!)) throw new Error(`manifest lists ${m[2]} twice`);
    out.set(m[2]!, m[1]!);
  }
  return out;
}
