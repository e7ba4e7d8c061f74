// The C2SP CCTV age vectors for the post-quantum hybrid recipient type (testdata/age, see its
// SOURCE.md) through Custody's identity handling: the identities are read as an identity file
// is, the file is opened by the one function Custody opens disclosures with.
import { describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { decryptAgeFile, readIdentityFile } from './identity.ts';
import { AgeOpenError, ageDecrypt } from './ageStream.ts';

const DIR = join(import.meta.dirname, 'testdata', 'age');

interface Vector {
  name: string;
  expect: string;
  payload?: string;
  identities: string[];
  armored: boolean;
  body: Buffer;
}

function parse(name: string): Vector {
  const raw = readFileSync(join(DIR, name));
  const end = raw.indexOf('\n\n');
  const header = raw.subarray(0, end).toString('utf8').split('\n');
  const field = (k: string) => header.filter((l) => l.startsWith(`${k}: `)).map((l) => l.slice(k.length + 2));
  let body = raw.subarray(end + 2);
  if (field('compressed')[0] === 'zlib') body = inflateSync(body);
  return { name, expect: field('expect')[0]!, payload: field('payload')[0], identities: field('identity'), armored: field('armored')[0] === 'yes', body };
}

const vectors = readdirSync(DIR)
  .filter((f) => f.startsWith('hybrid') || f === 'armor_hybrid')
  .sort()
  .map(parse);
const streamVectors = readdirSync(DIR)
  .filter((f) => f.startsWith('stream_'))
  .sort()
  .map(parse);

describe('C2SP age vectors (mlkem768x25519) through Custody identity handling', () => {
  test('every hybrid vector is vendored, with its source and licence', () => {
    expect(vectors.map((v) => v.name)).toEqual(expect.arrayContaining(['armor_hybrid', 'hybrid', 'hybrid_grease', 'hybrid_x25519_arg']));
    expect(vectors.length).toBe(19);
    expect(vectors.filter((v) => v.expect === 'success').length).toBeGreaterThanOrEqual(5);
    expect(readFileSync(join(DIR, 'LICENSE'), 'utf8')).toMatch(/BSD|Redistribution/);
    expect(readFileSync(join(DIR, 'SOURCE.md'), 'utf8')).toContain('C2SP');
  });

  test.each(vectors.map((v) => [v.name, v] as const))('%s', async (_name, v) => {
    const identities = await readIdentityFile(Buffer.from(v.identities.join('\n') + '\n'), async () => {
      throw new Error('vector identities are not encrypted');
    });
    const opened = decryptAgeFile(v.body, identities);
    if (v.expect === 'success') {
      const plain = await opened;
      expect(createHash('sha256').update(plain).digest('hex')).toBe(v.payload);
      if (v.armored) expect(v.body.toString('latin1')).toMatch(/^-----BEGIN AGE ENCRYPTED FILE-----/);
    } else if (v.expect === 'no match') {
      await expect(opened).rejects.toMatchObject({ name: 'CustodyError', code: 'BAD_REQUEST', message: expect.stringContaining('not addressed') });
    } else {
      await expect(opened).rejects.toMatchObject({ name: 'CustodyError', code: 'TAMPERED' });
    }
  });
});

// Disclosures are opened by ageStream.ts, which reads the payload with Node's own
// ChaCha20-Poly1305 instead of the library's: the same vectors, plus the STREAM ones (chunk
// boundaries, empty and missing final chunks, bad tags, trailing bytes), must hold for it too.
describe('C2SP age vectors through the native payload reader (ageStream.ts)', () => {
  test('the STREAM vectors are vendored', () => {
    expect(streamVectors.length).toBe(28);
    expect(streamVectors.filter((v) => v.expect === 'success').length).toBeGreaterThanOrEqual(5);
  });

  test.each([...vectors, ...streamVectors].filter((v) => !v.armored).map((v) => [v.name, v] as const))('%s', async (_name, v) => {
    const opened = ageDecrypt(v.body, v.identities);
    if (v.expect === 'success') {
      const plain = await opened;
      expect(createHash('sha256').update(plain).digest('hex')).toBe(v.payload);
    } else {
      await expect(opened).rejects.toBeInstanceOf(AgeOpenError);
    }
  });
});
