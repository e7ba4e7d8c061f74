import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ed25519PublicKey,
  formatVerifierKey,
  MAX_NOTE_SIGNATURES,
  NoteError,
  noteKeyId,
  noteVerifier,
  openNote,
  parseVerifierKey,
  signNote,
  type NoteVerifier,
} from './note.ts';

const dir = path.resolve(process.cwd(), 'testdata/signed-note');
const exampleNote = readFileSync(path.join(dir, 'example.note'));
const exampleVkey = readFileSync(path.join(dir, 'example.vkey'), 'utf8').trim();

function keyPair(name: string): { signer: { name: string; privateKey: Buffer }; verifier: NoteVerifier; publicKey: Buffer } {
  const privateKey = randomBytes(32);
  const publicKey = ed25519PublicKey(privateKey);
  return { signer: { name, privateKey }, verifier: noteVerifier(name, publicKey), publicKey };
}

describe('C2SP signed-note example', () => {
  const verifier = parseVerifierKey(exampleVkey);

  it('verifies with its vkey', () => {
    expect(verifier.name).toBe('example.com/foo');
    expect(verifier.keyId).toBe(0x530d903a);
    const opened = openNote(exampleNote, [verifier]);
    expect(opened).toEqual({
      text: 'This is an example message.\n',
      verified: [{ name: 'example.com/foo', keyId: 0x530d903a }],
      unverified: [],
    });
    expect(openNote(exampleNote.toString('utf8'), [verifier]).text).toBe('This is an example message.\n');
  });

  it('derives the same key ID and vkey text from the public key', () => {
    const publicKey = Buffer.from(exampleVkey.split('+')[2] ?? '', 'base64').subarray(1);
    expect(publicKey).toHaveLength(32);
    expect(noteKeyId('example.com/foo', publicKey)).toBe(0x530d903a);
    expect(formatVerifierKey('example.com/foo', publicKey)).toBe(exampleVkey);
  });

  it('rejects the note after any single byte of it is changed', () => {
    let checked = 0;
    for (let i = 0; i < exampleNote.length; i++) {
      for (const mask of [0x01, 0x20, 0x80]) {
        const changed = Buffer.from(exampleNote);
        changed[i] = (changed[i] ?? 0) ^ mask;
        expect(() => openNote(changed, [verifier]), `byte ${i} ^ ${mask}`).toThrow(NoteError);
        checked++;
      }
    }
    expect(checked).toBe(exampleNote.length * 3);
  });

  it('rejects the note after a byte is inserted or removed anywhere', () => {
    for (let i = 0; i <= exampleNote.length; i++) {
      const inserted = Buffer.concat([exampleNote.subarray(0, i), Buffer.from('A'), exampleNote.subarray(i)]);
      expect(() => openNote(inserted, [verifier]), `insert at ${i}`).toThrow(NoteError);
      if (i < exampleNote.length) {
        const removed = Buffer.concat([exampleNote.subarray(0, i), exampleNote.subarray(i + 1)]);
        expect(() => openNote(removed, [verifier]), `remove ${i}`).toThrow(NoteError);
      }
    }
  });

  it('never accepts the note under a vkey with any byte changed', () => {
    const vkey = Buffer.from(exampleVkey);
    for (let i = 0; i < vkey.length; i++) {
      const changed = Buffer.from(vkey);
      changed[i] = (changed[i] ?? 0) ^ 0x01;
      expect(() => openNote(exampleNote, [parseVerifierKey(changed.toString('latin1'))]), `vkey byte ${i}`).toThrow(NoteError);
    }
  });
});

describe('signNote and openNote', () => {
  const alice = keyPair('custody.example/alice');
  const bob = keyPair('custody.example/bob');

  it('round-trips notes with one or more signatures', () => {
    const text = 'Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n';
    const note = signNote(text, [alice.signer, bob.signer]);
    expect(note.startsWith(`${text}\n\u2014 custody.example/alice `)).toBe(true);
    const aliceId = noteKeyId(alice.signer.name, alice.publicKey);
    const bobId = noteKeyId(bob.signer.name, bob.publicKey);
    expect(openNote(note, [alice.verifier])).toEqual({
      text,
      verified: [{ name: alice.signer.name, keyId: aliceId }],
      unverified: [{ name: bob.signer.name, keyId: bobId }],
    });
    expect(openNote(note, [bob.verifier, alice.verifier]).verified).toHaveLength(2);
    expect(openNote(Buffer.from(note), [parseVerifierKey(formatVerifierKey(bob.signer.name, bob.publicKey))]).text).toBe(text);
  });

  it('keeps text that has blank lines or ends in one', () => {
    for (const text of ['\n', 'a\n\nb\n', 'a\n\n', 'a\n\n\n', '\u00a0 +\n']) {
      expect(openNote(signNote(text, [alice.signer]), [alice.verifier]).text).toBe(text);
    }
  });

  it('accepts 16 signatures', () => {
    const pairs = Array.from({ length: 16 }, (_, i) => keyPair(`custody.example/w${i}`));
    const note = signNote('sixteen\n', pairs.map((p) => p.signer));
    expect(openNote(note, pairs.map((p) => p.verifier)).verified).toHaveLength(16);
  });

  it('rejects notes without a trusted signature', () => {
    const note = signNote('hello\n', [alice.signer]);
    expect(() => openNote(note, [])).toThrow(/no signature from a trusted key/);
    expect(() => openNote(note, [bob.verifier])).toThrow(/no signature from a trusted key \(signed by: custody\.example\/alice\+/);
    // Same name, other key: a different key ID, so the signature is ignored.
    expect(() => openNote(note, [noteVerifier(alice.signer.name, bob.publicKey)])).toThrow(/no signature from a trusted key/);
  });

  it('rejects a note whose known key fails, even if another verifies', () => {
    const note = signNote('hello\n', [alice.signer, bob.signer]);
    const impostor: NoteVerifier = { name: bob.verifier.name, keyId: bob.verifier.keyId, verify: alice.verifier.verify };
    expect(() => openNote(note, [alice.verifier, impostor])).toThrow(/signature by custody\.example\/bob .* does not verify/);
  });

  it('rejects ambiguous verifier lists', () => {
    const note = signNote('hello\n', [alice.signer]);
    expect(() => openNote(note, [alice.verifier, alice.verifier])).toThrow(/two verifier keys share/);
  });

  const sig = (note: string): string => note.slice(note.lastIndexOf('\n\n') + 2);
  const good = signNote('hello\n', [alice.signer]);
  const line = sig(good);
  const unknownLine = sig(signNote('hello\n', [bob.signer]));

  it.each([
    ['no final newline', good.slice(0, -1)],
    ['no blank line', good.replace('\n\n', '\n')],
    ['no signature lines', 'hello\n\n'],
    ['an empty signature line', `${good}\n`],
    ['a hyphen instead of an em dash', good.replace('\u2014', '-')],
    ['no space after the em dash', good.replace('\u2014 ', '\u2014')],
    ['an empty key name', good.replace('\u2014 custody.example/alice ', '\u2014  ')],
    ['a plus in the key name', good.replace('custody.example/alice', 'custody.example+alice')],
    ['no signature', good.replace(/ [A-Za-z0-9+/=]+\n$/, '\n')],
    ['an empty signature', good.replace(/ [A-Za-z0-9+/=]+\n$/, ' \n')],
    ['a short signature', good.replace(/ [A-Za-z0-9+/=]+\n$/, ' AAAAAA==\n')],
    ['a space inside the signature', good.replace(/ ([A-Za-z0-9+/=]{10})/, ' $1 ')],
    ['unpadded base64', good.replace(/=\n$/, '\n')],
    ['URL-safe base64', `hello\n\n\u2014 x ${Buffer.alloc(68, 0xff).toString('base64url')}=\n${line}`],
    ['a duplicated signature line', `${good}${line}`],
    ['a duplicated unknown signature line', `${good}${unknownLine}${unknownLine}`],
    ['a tab in the text', `hel\tlo\n\n${line}`],
    ['CRLF line endings', `hello\r\n\r\n${line.replace('\n', '\r\n')}`],
    ['a lone surrogate', `hel\ud800lo\n\n${line}`],
  ])('rejects a note with %s as malformed', (_, note) => {
    expect(() => openNote(note, [alice.verifier])).toThrow(NoteError);
    expect(() => openNote(note, [alice.verifier])).toThrow(/^malformed note: /);
  });

  it('rejects more than the signature limit', () => {
    const lines = Array.from({ length: MAX_NOTE_SIGNATURES }, (_, i) => {
      const id = Buffer.alloc(68);
      id.writeUInt32BE(i);
      return `\u2014 other.example/w${i} ${id.toString('base64')}\n`;
    });
    expect(openNote(`${good}${lines.slice(1).join('')}`, [alice.verifier]).unverified).toHaveLength(MAX_NOTE_SIGNATURES - 1);
    expect(() => openNote(`${good}${lines.join('')}`, [alice.verifier])).toThrow(/more than 100 signatures/);
  });

  it('rejects a note that is not UTF-8', () => {
    const bytes = Buffer.from(good);
    bytes[1] = 0xff;
    expect(() => openNote(bytes, [alice.verifier])).toThrow(/not valid UTF-8/);
  });

  it('refuses to sign what it could not open', () => {
    expect(() => signNote('no newline', [alice.signer])).toThrow(/end with a newline/);
    expect(() => signNote('tab\there\n', [alice.signer])).toThrow(/control character/);
    expect(() => signNote('ok\n', [])).toThrow(/at least one signer/);
    expect(() => signNote('ok\n', [alice.signer, alice.signer])).toThrow(/listed twice/);
    expect(() => signNote('ok\n', [{ name: 'has space', privateKey: alice.signer.privateKey }])).toThrow(/key name/);
    expect(() => signNote('ok\n', [{ name: '', privateKey: alice.signer.privateKey }])).toThrow(/is empty/);
    expect(() => signNote('ok\n', [{ name: 'x', privateKey: Buffer.alloc(31) }])).toThrow(/32 bytes/);
  });
});

describe('verifier keys', () => {
  const { publicKey } = keyPair('k');

  it('round-trips', () => {
    const vkey = formatVerifierKey('custody.example/device-1', publicKey);
    const v = parseVerifierKey(vkey);
    expect(v.name).toBe('custody.example/device-1');
    expect(v.keyId).toBe(noteKeyId('custody.example/device-1', publicKey));
  });

  it.each([
    ['no separators', 'example.com/foo'],
    ['a short key ID', 'example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k'],
    ['a wrong key ID', 'example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k'],
    ['an empty name', '+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k'],
    ['a space in the name', 'example .com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k'],
    ['another signature type', 'example.com/foo+530d903a+AukyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k'],
    ['a short key', 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3Q=='],
    ['no key', 'example.com/foo+530d903a+'],
    ['non-canonical base64', 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k='],
  ])('rejects a vkey with %s', (_, vkey) => {
    expect(() => parseVerifierKey(vkey)).toThrow(NoteError);
  });
});
