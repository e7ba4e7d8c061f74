// The grant statement: what a disclosure package grants, to whom, why and until when, signed by
// the issuing device's Ed25519 key as a C2SP signed note (the same code that signs checkpoints).
// The package carries it in full; the grant's hash (SHA-256 of the signed note) is what an
// acknowledgement signs and what both sides' audit entries name.
//
//   custody-grant/v1
//   grant <uuid>
//   issuer-vault <vault id>
//   issuer-key <signed-note verifier key of the device>
//   issued <ISO time>
//   expires <ISO time | never>
//   range <YYYY-MM-DD> <YYYY-MM-DD>
//   scope days|records
//   filters <base64 of canonical JSON>        (analyst text: inside the encrypted package only)
//   purpose <base64 of UTF-8>
//   recipient <fingerprint> <age recipient>   (one line each)
//   post-quantum yes|no
//   records <n>
//   content-sha256 <hex of the package body>
//   checkpoint <size> <base64 root hash>      (the issuer's signed log the proofs anchor to)
import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';
import { CustodyError } from '../../shared/errors.ts';
import { deviceKeyName, publicKeyOfVkey } from '../audit/checkpoints.ts';
import { formatVerifierKey, noteVerifier, openNote, parseVerifierKey, signNote } from '../audit/tlog/note.ts';
import { vkeyFingerprint } from '../audit/vkeyFingerprint.ts';

export const STATEMENT_HEADER = 'custody-grant/v1';
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface GrantFilters {
  case?: string;
  tags?: string[];
  maxClassification?: string;
  records?: string[];
  withAttachments?: boolean;
  withHistory?: boolean;
}

export interface GrantRecipient {
  fingerprint: string;
  recipient: string;
}

export interface GrantStatement {
  grantId: string;
  issuerVaultId: string;
  /** The issuing device's verifier key (name+keyid+base64). */
  issuerKey: string;
  issuedAt: string;
  expiresAt: string | null;
  from: string;
  until: string;
  /** days: the epoch keys of whole days; records: only the keys of the listed records. */
  scope: 'days' | 'records';
  filters: GrantFilters;
  purpose: string;
  recipients: GrantRecipient[];
  postQuantum: boolean;
  records: number;
  contentSha256: string;
  checkpoint: { size: number; rootHash: string };
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

export function formatStatement(s: GrantStatement): string {
  const lines = [
    STATEMENT_HEADER,
    `grant ${s.grantId}`,
    `issuer-vault ${s.issuerVaultId}`,
    `issuer-key ${s.issuerKey}`,
    `issued ${s.issuedAt}`,
    `expires ${s.expiresAt ?? 'never'}`,
    `range ${s.from} ${s.until}`,
    `scope ${s.scope}`,
    `filters ${b64(canonicalize(s.filters)!)}`,
    `purpose ${b64(s.purpose)}`,
    ...s.recipients.map((r) => `recipient ${r.fingerprint} ${r.recipient}`),
    `post-quantum ${s.postQuantum ? 'yes' : 'no'}`,
    `records ${s.records}`,
    `content-sha256 ${s.contentSha256}`,
    `checkpoint ${s.checkpoint.size} ${s.checkpoint.rootHash}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** Signs a statement with the issuing device's key (its name says vault and device). */
export function signStatement(s: GrantStatement, vaultId: string, deviceId: string, seed: Uint8Array): string {
  return signNote(formatStatement(s), [{ name: deviceKeyName(vaultId, deviceId), privateKey: seed }]);
}

function bad(msg: string): CustodyError {
  return new CustodyError('TAMPERED', `the grant statement ${msg}`);
}

/** Parses statement text strictly (every line, in order); throws TAMPERED naming the problem. */
export function parseStatement(text: string): GrantStatement {
  const lines = text.replace(/\n$/, '').split('\n');
  let i = 0;
  const take = (key: string): string => {
    const line = lines[i++];
    if (line === undefined || !line.startsWith(`${key} `)) throw bad(`is malformed: expected a "${key}" line at line ${i}`);
    return line.slice(key.length + 1);
  };
  if (lines[i++] !== STATEMENT_HEADER) throw bad(`is not a Custody grant statement (first line is not ${STATEMENT_HEADER})`);
  const grantId = take('grant');
  if (!UUID.test(grantId)) throw bad('has a malformed grant id');
  const issuerVaultId = take('issuer-vault');
  const issuerKey = take('issuer-key');
  const issuedAt = take('issued');
  const expires = take('expires');
  const [from = '', until = ''] = take('range').split(' ');
  if (!DAY.test(from) || !DAY.test(until) || from > until) throw bad('has a malformed range');
  const scope = take('scope');
  if (scope !== 'days' && scope !== 'records') throw bad('has an unknown scope');
  let filters: GrantFilters;
  let purpose: string;
  try {
    filters = JSON.parse(unb64(take('filters'))) as GrantFilters;
    purpose = unb64(take('purpose'));
  } catch (e) {
    if (e instanceof CustodyError) throw e;
    throw bad('has malformed filters');
  }
  const recipients: GrantRecipient[] = [];
  while (lines[i]?.startsWith('recipient ')) {
    const [fingerprint = '', recipient = ''] = take('recipient').split(' ');
    recipients.push({ fingerprint, recipient });
  }
  if (recipients.length === 0) throw bad('names no recipient');
  const pq = take('post-quantum');
  const records = Number(take('records'));
  const contentSha256 = take('content-sha256');
  const [size = '', rootHash = ''] = take('checkpoint').split(' ');
  if (i !== lines.length) throw bad('has unexpected lines at its end');
  if (!Number.isSafeInteger(records) || records < 0 || !/^[0-9a-f]{64}$/.test(contentSha256) || !/^\d+$/.test(size)) throw bad('is malformed');
  if (Number.isNaN(Date.parse(issuedAt)) || (expires !== 'never' && Number.isNaN(Date.parse(expires)))) throw bad('has a malformed date');
  return { grantId, issuerVaultId, issuerKey, issuedAt, expiresAt: expires === 'never' ? null : expires, from, until, scope, filters, purpose, recipients, postQuantum: pq === 'yes', records, contentSha256, checkpoint: { size: Number(size), rootHash } };
}

export interface VerifiedStatement {
  statement: GrantStatement;
  /** SHA-256 (hex) of the signed note: the grant's hash. */
  grantSha256: string;
  /** The key registry's fingerprint of the issuer's device key. */
  issuerFingerprint: string;
  note: string;
}

export const grantHash = (note: string): string => createHash('sha256').update(note, 'utf8').digest('hex');

/**
 * Verifies a signed statement with the issuer key it names, and that the key's name is the
 * device key name of the vault it names. Trust in that key is the reader's: the result gives its
 * fingerprint to compare with one obtained from the issuer (or `expectIssuer` pins it).
 */
export function verifyStatement(note: string, opts: { expectIssuer?: string } = {}): VerifiedStatement {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw bad('is not a signed note');
  const statement = parseStatement(note.slice(0, split + 1));
  let name: string;
  let publicKey: Buffer;
  try {
    name = parseVerifierKey(statement.issuerKey).name;
    publicKey = publicKeyOfVkey(statement.issuerKey);
  } catch (e) {
    throw bad(`names a malformed issuer key: ${(e as Error).message}`);
  }
  if (!name.startsWith(`custody.vault/${statement.issuerVaultId}/device/`)) throw bad('names an issuer key of another vault');
  try {
    openNote(note, [noteVerifier(name, publicKey)]);
  } catch (e) {
    throw bad(`signature does not verify with the issuer's device key: ${(e as Error).message}`);
  }
  const issuerFingerprint = vkeyFingerprint(statement.issuerKey);
  if (opts.expectIssuer && opts.expectIssuer.trim() !== issuerFingerprint && opts.expectIssuer.trim() !== statement.issuerKey)
    throw bad(`is signed by the key ${issuerFingerprint}, not by the issuer key you expected (${opts.expectIssuer.trim()})`);
  return { statement, grantSha256: grantHash(note), issuerFingerprint, note };
}

/** The verifier key of a device (what a statement names as its issuer key). */
export const deviceVkey = (vaultId: string, deviceId: string, publicKey: Uint8Array): string => formatVerifierKey(deviceKeyName(vaultId, deviceId), publicKey);
