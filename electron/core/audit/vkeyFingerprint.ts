// A verifier key's fingerprint, to compare one received out of band with the key a report or a
// log carries. It is the key registry's fingerprint of the Ed25519 public key (crypto/keys.ts
// keyFingerprint), the value `custody audit verify` and the
// registry show, so one number names a device key everywhere. The name in the vkey is not part
// of it: compare the whole vkey line (or pin it with --vkey) to check the name as well.
import { keyFingerprint } from '../crypto/keys.ts';
import { parseVerifierKey } from './tlog/note.ts';

/** 32 lowercase hex digits; throws if `vkey` is not a verifier key. */
export function vkeyFingerprint(vkey: string): string {
  const text = vkey.trim();
  parseVerifierKey(text);
  // <name>+<key id>+base64(0x01 || key): the name has no '+', the base64 may.
  const publicKey = Buffer.from(text.slice(text.indexOf('+', text.indexOf('+') + 1) + 1), 'base64').subarray(1);
  return keyFingerprint(publicKey);
}
