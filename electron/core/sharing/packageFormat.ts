// The plaintext inside a disclosure package's age layer:
//
//   custody-disclosure/v1\n
//   statement <byte length>\n<signed grant statement>
//   body <byte length>\n<body: JSON, see PackageBody>
//
// The statement's content-sha256 is the SHA-256 of the body bytes exactly as they stand here, so
// the signature covers every byte of the package. The body is read as hostile input: bounded,
// parsed against a strict schema, every binary field canonical base64.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CustodyError } from '../../shared/errors.ts';

export const PACKAGE_HEADER = 'custody-disclosure/v1';
export const BODY_FORMAT = 'custody-disclosure-body/v1';
/** Refuse bodies larger than this (a package is decrypted in memory). */
export const MAX_BODY_BYTES = 2 * 1024 ** 3 - 1;

// Base64 is not checked for canonical form here: the signature covers the body's exact bytes, so
// another spelling of the same bytes cannot pass unnoticed, and a regex over megabytes of it
// was a good share of the time to open a large package. Short fields (keys) are checked for length.
const B64 = z.string();
const Key = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'not a 32-byte key in base64');
const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const Id = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
const Ms = z.number().int().nonnegative();

const VersionSchema = z.strictObject({
  version: z.number().int().positive(),
  kind: z.string().max(32),
  capturedAt: Ms,
  epochDay: Day,
  savedAt: Ms,
  /** Whole-day grants: the version's wrapped key chain as stored (opened with its day's key). */
  wrappedDek: B64.optional(),
  summary: B64,
  content: B64,
});

const AttachmentSchema = z.strictObject({
  id: Id,
  createdAt: Ms,
  /** The attachment's own key (its chunked ciphertext opens with it and nothing else). */
  key: Key,
  meta: z.strictObject({ name: z.string().max(1000), size: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/), mediaType: z.string().max(200) }),
  /** The chunked ciphertext as the issuer stores it (C2SP chunked-encryption). */
  blob: B64,
});

const RecordSchema = z.strictObject({
  id: Id,
  kind: z.string().max(32),
  capturedAt: Ms,
  epochDay: Day,
  createdAt: Ms,
  updatedAt: Ms,
  version: z.number().int().positive(),
  wrappedDek: B64.optional(),
  summary: B64,
  content: B64,
  history: z.array(VersionSchema).optional(),
  attachments: z.array(AttachmentSchema).optional(),
});

const EntrySchema = z.strictObject({
  seq: z.number().int().nonnegative(),
  /** The entry's canonical JSON (the leaf's input), or absent when retention pruned it. */
  entry: z.string().optional(),
  /** A pruned entry's leaf hash (hex). */
  leafHash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  /** The inclusion proof: indexes into the package's audit.nodes (shared by all proofs). */
  proof: z.array(z.number().int().nonnegative()).max(64),
});

export const PackageBodySchema = z.strictObject({
  format: z.literal(BODY_FORMAT),
  grantId: Id,
  vaultId: z.string().min(1).max(100),
  keys: z.strictObject({
    /** Whole-day grants: the epoch key of each granted day. */
    epoch: z.array(z.strictObject({ day: Day, key: Key })),
    /** Narrowed grants: each record's data keys (current first, then what its history needs). */
    records: z.array(z.strictObject({ id: Id, keys: z.array(Key).min(1).max(64) })),
  }),
  records: z.array(RecordSchema),
  /**
   * The issuer's signed checkpoint, the tree nodes the inclusion proofs need (each once: proofs
   * of neighbouring entries share most of their path), and the entries with their proofs.
   */
  audit: z.strictObject({ checkpoint: z.string().max(10_000), nodes: z.array(z.string().regex(/^[A-Za-z0-9+/]{43}=$/)), entries: z.array(EntrySchema) }),
});

export type PackageBody = z.infer<typeof PackageBodySchema>;
export type PackageRecord = z.infer<typeof RecordSchema>;
export type PackageVersion = z.infer<typeof VersionSchema>;
export type PackageAttachment = z.infer<typeof AttachmentSchema>;
export type PackageEntry = z.infer<typeof EntrySchema>;

export const sha256Hex = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');
export const b64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
export const unb64 = (s: string): Buffer => Buffer.from(s, 'base64');

/** The package plaintext: header, signed statement, body bytes. */
export function encodePackage(statementNote: string, body: Uint8Array): Buffer {
  const st = Buffer.from(statementNote, 'utf8');
  return Buffer.concat([Buffer.from(`${PACKAGE_HEADER}\nstatement ${st.length}\n`), st, Buffer.from(`body ${body.length}\n`), body]);
}

function malformed(msg: string): CustodyError {
  return new CustodyError('TAMPERED', `the disclosure package is malformed: ${msg}`);
}

/** Splits package plaintext into statement text and body bytes; throws TAMPERED if malformed. */
export function splitPackage(plain: Uint8Array): { statement: string; body: Buffer } {
  const buf = Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength);
  let at = 0;
  const line = (): string => {
    const nl = buf.indexOf(0x0a, at);
    if (nl < 0 || nl - at > 100) throw malformed('a header line is missing');
    const s = buf.subarray(at, nl).toString('latin1');
    at = nl + 1;
    return s;
  };
  const section = (name: string, max: number): Buffer => {
    const m = new RegExp(`^${name} (0|[1-9][0-9]{0,10})$`).exec(line());
    if (!m) throw malformed(`no ${name} section`);
    const n = Number(m[1]);
    if (n > max || at + n > buf.length) throw malformed(`the ${name} section is truncated or too large`);
    const out = buf.subarray(at, at + n);
    at += n;
    return out;
  };
  if (line() !== PACKAGE_HEADER) throw malformed(`it does not start with ${PACKAGE_HEADER}`);
  const statement = section('statement', 1_000_000);
  const body = section('body', MAX_BODY_BYTES);
  if (at !== buf.length) throw malformed('there are bytes after the body');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(statement);
  } catch {
    throw malformed('the statement is not UTF-8');
  }
  return { statement: text, body };
}

/** Parses body bytes (already checked against the signed content hash). */
export function parseBody(body: Buffer): PackageBody {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw malformed('the body is not JSON');
  }
  const p = PackageBodySchema.safeParse(json);
  if (!p.success) throw malformed(`the body does not match its format (${p.error.issues[0]!.path.join('.')}: ${p.error.issues[0]!.message})`);
  return p.data;
}
