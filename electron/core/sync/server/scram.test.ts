import { createHash, createHmac } from 'node:crypto';
import { expect, test } from 'vitest';
import { scramVerifier } from './scram.ts';

// RFC 7677 section 3: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 rounds.
const AUTH_MESSAGE =
  'n=user,r=rOprNGfwEbeRWgbNEkqO,' +
  'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,' +
  'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';

test('the SCRAM-SHA-256 verifier matches the RFC 7677 exchange', () => {
  const v = scramVerifier('pencil', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'));
  const m = /^SCRAM-SHA-256\$4096:W22ZaJ0SNY7soEsUEjb6gQ==\$([^:]+):(.+)$/.exec(v);
  expect(m).not.toBeNull();
  const storedKey = Buffer.from(m![1]!, 'base64');
  const serverKey = Buffer.from(m![2]!, 'base64');
  // The server signature the RFC's server sends, from ServerKey.
  expect(createHmac('sha256', serverKey).update(AUTH_MESSAGE).digest('base64')).toBe('6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
  // The client proof the RFC's client sends recovers a ClientKey whose hash is StoredKey.
  const proof = Buffer.from('dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=', 'base64');
  const signature = createHmac('sha256', storedKey).update(AUTH_MESSAGE).digest();
  const clientKey = Buffer.from(proof.map((b, i) => b ^ signature[i]!));
  expect(createHash('sha256').update(clientKey).digest().equals(storedKey)).toBe(true);
});
