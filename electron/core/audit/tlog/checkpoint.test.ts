import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CheckpointError, formatCheckpoint, openCheckpoint, parseCheckpoint } from './checkpoint.ts';
import { ed25519PublicKey, NoteError, noteVerifier, signNote } from './note.ts';

const root = Buffer.from('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=', 'base64');
const specExample = 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';

describe('tlog-checkpoint text', () => {
  it('parses the spec example', () => {
    expect(parseCheckpoint(specExample)).toEqual({ origin: 'example.com/behind-the-sofa', size: 20852163, rootHash: root, extensions: [] });
  });

  it('round-trips, with and without extension lines', () => {
    const fields = { origin: 'custody.example/vault-1', size: 0, rootHash: root, extensions: [] };
    expect(parseCheckpoint(formatCheckpoint(fields))).toEqual(fields);
    const withExt = { origin: 'o', size: 2 ** 53 - 1, rootHash: root, extensions: ['ext one', '— two'] };
    const text = formatCheckpoint(withExt);
    expect(text).toBe(`o\n9007199254740991\n${root.toString('base64')}\next one\n— two\n`);
    expect(parseCheckpoint(text)).toEqual(withExt);
    expect(formatCheckpoint({ origin: 'example.com/behind-the-sofa', size: 20852163, rootHash: root })).toBe(specExample);
  });

  it('accepts any non-empty origin when parsing', () => {
    expect(parseCheckpoint(`a log with spaces+plus\n1\n${root.toString('base64')}\n`).origin).toBe('a log with spaces+plus');
  });

  const b64 = root.toString('base64');
  it.each([
    ['no final newline', `o\n1\n${b64}`],
    ['two lines', 'o\n1\n'],
    ['an empty origin', `\n1\n${b64}\n`],
    ['an empty size', `o\n\n${b64}\n`],
    ['a leading zero', `o\n01\n${b64}\n`],
    ['a sign', `o\n+1\n${b64}\n`],
    ['a negative size', `o\n-1\n${b64}\n`],
    ['a space after the size', `o\n1 \n${b64}\n`],
    ['an exponent', `o\n1e3\n${b64}\n`],
    ['a size of 2^53', `o\n9007199254740992\n${b64}\n`],
    ['a 31-byte root', `o\n1\n${root.subarray(1).toString('base64')}\n`],
    ['a 33-byte root', `o\n1\n${Buffer.concat([root, Buffer.alloc(1)]).toString('base64')}\n`],
    ['unpadded base64', `o\n1\n${b64.replace(/=$/, '')}\n`],
    ['non-canonical base64 padding bits', `o\n1\n${b64.replace(/I=$/, 'J=')}\n`],
    ['URL-safe base64', `o\n1\n${Buffer.alloc(32, 0xfb).toString('base64url')}=\n`],
    ['an empty extension line', `o\n1\n${b64}\n\n`],
    ['an empty line between extensions', `o\n1\n${b64}\na\n\nb\n`],
    ['a carriage return', `o\r\n1\n${b64}\n`],
  ])('rejects a checkpoint with %s', (_, text) => {
    expect(() => parseCheckpoint(text)).toThrow(CheckpointError);
  });

  it.each([
    ['an empty origin', { origin: '', size: 1, rootHash: root }],
    ['a space in the origin', { origin: 'a b', size: 1, rootHash: root }],
    ['a plus in the origin', { origin: 'a+b', size: 1, rootHash: root }],
    ['a newline in the origin', { origin: 'a\nb', size: 1, rootHash: root }],
    ['a negative size', { origin: 'o', size: -1, rootHash: root }],
    ['a fractional size', { origin: 'o', size: 1.5, rootHash: root }],
    ['a short root', { origin: 'o', size: 1, rootHash: root.subarray(1) }],
    ['an empty extension', { origin: 'o', size: 1, rootHash: root, extensions: [''] }],
    ['a multi-line extension', { origin: 'o', size: 1, rootHash: root, extensions: ['a\nb'] }],
  ])('refuses to format a checkpoint with %s', (_, fields) => {
    expect(() => formatCheckpoint(fields)).toThrow(CheckpointError);
  });
});

describe('openCheckpoint', () => {
  const seed = randomBytes(32);
  const origin = 'custody.example/vault-1';
  const verifier = noteVerifier(origin, ed25519PublicKey(seed));
  const text = formatCheckpoint({ origin, size: 5, rootHash: root });
  const note = signNote(text, [{ name: origin, privateKey: seed }]);

  it('verifies, parses and checks the origin', () => {
    const opened = openCheckpoint(note, [verifier], origin);
    expect(opened.checkpoint).toEqual({ origin, size: 5, rootHash: root, extensions: [] });
    expect(opened.text).toBe(text);
    expect(opened.verified).toEqual([{ name: origin, keyId: verifier.keyId }]);
  });

  it('rejects another origin, a bad signature and a malformed body', () => {
    expect(() => openCheckpoint(note, [verifier], 'custody.example/vault-2')).toThrow(/is for log "custody.example\/vault-1"/);
    expect(() => openCheckpoint(note.replace('\n5\n', '\n6\n'), [verifier], origin)).toThrow(NoteError);
    const bad = signNote('custody.example/vault-1\n05\nAA==\n', [{ name: origin, privateKey: seed }]);
    expect(() => openCheckpoint(bad, [verifier], origin)).toThrow(CheckpointError);
  });
});
