// Delivery of disclosure packages through the sync server (docs/sharing.md, "Delivery through
// the sync server"; server schema: prisma/server/migrations/0003_envelopes). Optional: it needs
// sync configured, and both analysts on the same server.
//
// A reviewer publishes their vault's recipient (reviewer_key); an issuer pushes a package (an
// age file, ciphertext to that recipient) as one envelope per recipient; the server fills in the
// recipient's role from the published key, and row-level security shows an envelope only to its
// issuer and its recipient. Status is a series of appended events (pending -> delivered ->
// opened; withdrawn by the issuer before it is opened; expired), checked by a server trigger;
// each attempt of the recipient to open it goes to an append-only decryption log. The server
// never sees plaintext: what it holds is the age file, which only the recipient's identity opens.
// Recalling works only here: once a package is fetched, expiry is up to the reader's software.
import { createHash } from 'node:crypto';
import { CustodyError } from '../../shared/errors.ts';
import type { EnvelopeStatus } from '../../shared/sharing.ts';
import { uuidv7, UUID_RE } from '../util/ids.ts';
import type { Custody } from '../custody.ts';
import { SyncServer } from '../sync/client/server.ts';
import { SyncState } from '../sync/client/state.ts';
import { listGrants } from './disclose.ts';
import { recipientFingerprint, recipientType, vaultIdentity } from './identity.ts';

export interface EnvelopeEventView {
  status: EnvelopeStatus;
  actor: string;
  at: string;
}

export interface EnvelopeView {
  id: string;
  /** 'received': addressed to this analyst; 'sent': issued by them. */
  direction: 'received' | 'sent';
  issuer: string;
  recipientRole: string;
  recipientFingerprint: string;
  packageSha256: string;
  size: number;
  createdAt: string;
  expiresAt: string | null;
  status: EnvelopeStatus;
  /** When the recipient opened it (the 'opened' event), or null. */
  openedAt: string | null;
  events: EnvelopeEventView[];
  /** The server-side decryption log. */
  openAttempts: { actor: string; at: string; success: boolean }[];
}

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const target = (id: string) => `envelope:${id}`;

function assertId(id: string): void {
  if (!UUID_RE.test(id)) throw new CustodyError('BAD_REQUEST', 'not an envelope id');
}

/** Connects to the sync server this vault is configured for (needs the vault unlocked). */
export async function connectDelivery(custody: Custody): Promise<SyncServer> {
  const state = new SyncState(custody.vault);
  if (!state.configured) throw new CustodyError('BAD_REQUEST', 'delivery through the server needs sync: run "custody sync configure --url …" first (or send the package file another way)');
  return SyncServer.connect(state.url());
}

/** Runs fn with a connection to the configured server, closed afterwards. */
export async function withDelivery<T>(custody: Custody, fn: (server: SyncServer) => Promise<T>): Promise<T> {
  const server = await connectDelivery(custody);
  try {
    return await fn(server);
  } finally {
    await server.close();
  }
}

/**
 * Publishes this vault's reviewer recipient on the server so others can address envelopes to
 * it (idempotent). Returns whether it was new.
 */
export async function publishIdentity(custody: Custody, server: SyncServer): Promise<{ fingerprint: string; published: boolean }> {
  custody.vault.keys();
  const identity = await vaultIdentity(custody);
  if (!identity) throw new CustodyError('NOT_FOUND', 'this vault has no reviewer identity yet; create it with: custody identity new');
  const hash = sha256(identity.recipient);
  const published = await server.run('publish the reviewer recipient', async (c) => {
    const mine = await c.query<{ owner: string }>('SELECT owner FROM custody.reviewer_key WHERE recipient_sha256 = $1', [hash]);
    if (mine.rows[0]) {
      const me = (await c.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u;
      if (mine.rows[0].owner !== me) throw new CustodyError('CONFLICT', `another analyst of this server (${mine.rows[0].owner}) already published this recipient`);
      return false;
    }
    await c.query('INSERT INTO custody.reviewer_key (recipient_sha256, fingerprint, recipient) VALUES ($1, $2, $3)', [hash, identity.fingerprint, identity.recipient]);
    return true;
  });
  if (published) await custody.vault.record({ event: 'settings.changed', details: { keys: ['sharing.publishedRecipient'], fingerprint: identity.fingerprint } });
  return { fingerprint: identity.fingerprint, published };
}

/**
 * Pushes a package to each recipient as its own envelope (one transaction: all or none).
 * Each recipient must have published their key on this server. Audited per envelope, with the
 * recipient's fingerprint and the package hash.
 */
export async function pushEnvelope(
  custody: Custody,
  server: SyncServer,
  opts: { package: Uint8Array; recipients: readonly { recipient: string }[]; expiresAt?: string | null },
): Promise<{ id: string; fingerprint: string }[]> {
  custody.vault.keys();
  if (opts.recipients.length === 0) throw new CustodyError('BAD_REQUEST', 'an envelope needs a recipient');
  if (opts.expiresAt && Number.isNaN(Date.parse(opts.expiresAt))) throw new CustodyError('BAD_REQUEST', 'the expiry is not a date');
  const packageSha256 = sha256(opts.package);
  const made = opts.recipients.map((r) => {
    recipientType(r.recipient);
    return { id: uuidv7(), recipient: r.recipient, hash: sha256(r.recipient), fingerprint: recipientFingerprint(r.recipient) };
  });
  await server.tx('deliver the package', async (c) => {
    const known = await c.query<{ h: string }>('SELECT recipient_sha256 AS h FROM custody.reviewer_key WHERE recipient_sha256 = ANY($1::text[])', [made.map((m) => m.hash)]);
    const have = new Set(known.rows.map((r) => r.h));
    const missing = made.filter((m) => !have.has(m.hash));
    if (missing.length)
      throw new CustodyError('NOT_FOUND', `no analyst of this server has published the recipient ${missing.map((m) => m.fingerprint).join(', ')} ("custody envelopes publish" on their side), so it cannot be delivered here`);
    for (const m of made)
      await c.query('INSERT INTO custody.envelope (id, recipient_role, recipient_sha256, package, package_sha256, expires_at) VALUES ($1, $2, $3, $4, $5, $6)', [
        m.id,
        '',
        m.hash,
        Buffer.from(opts.package),
        packageSha256,
        opts.expiresAt ? new Date(opts.expiresAt) : null,
      ]);
  });
  await custody.vault.record(...made.map((m) => ({ event: 'envelope.pushed' as const, target: target(m.id), details: { fingerprint: m.fingerprint, packageSha256, ...(opts.expiresAt ? { expiresAt: new Date(opts.expiresAt).toISOString() } : {}) } })));
  return made.map((m) => ({ id: m.id, fingerprint: m.fingerprint }));
}

/**
 * Delivers a package this vault issued (`custody disclose --out FILE`) to its recipients: the
 * grant is found by the package's SHA-256 among this vault's issued grants, and gives the
 * recipients and the expiry (a file this vault did not issue is refused). `only` narrows the
 * delivery to some of the grant's recipients (fingerprints).
 */
export async function sendPackage(custody: Custody, server: SyncServer, pkg: Uint8Array, only?: readonly string[]): Promise<{ grantId: string; envelopes: { id: string; fingerprint: string }[] }> {
  const hash = sha256(pkg);
  const grant = listGrants(custody).find((g) => g.packageSha256 === hash);
  if (!grant) throw new CustodyError('NOT_FOUND', 'this file is not a disclosure package this vault issued (no grant has its SHA-256): deliver the file custody disclose wrote, unchanged');
  if (grant.expired) throw new CustodyError('CONFLICT', `grant ${grant.grantId} has expired; issue a new disclosure`);
  const recipients = only?.length ? grant.recipients.filter((r) => only.includes(r.fingerprint)) : grant.recipients;
  if (only?.length && recipients.length !== only.length) throw new CustodyError('BAD_REQUEST', 'a fingerprint given is not one of the grant\'s recipients');
  const envelopes = await pushEnvelope(custody, server, { package: pkg, recipients, expiresAt: grant.expiresAt });
  return { grantId: grant.grantId, envelopes };
}

interface EnvelopeRow {
  id: string;
  issuer: string;
  recipient_role: string;
  fingerprint: string | null;
  package_sha256: string;
  size: number;
  created_at: Date;
  expires_at: Date | null;
  me: string;
}

/**
 * Envelopes addressed to this analyst ('inbox': those that may still be opened) or issued by
 * them ('sent', with their status history and decryption log). Listing sent envelopes records
 * the expiry of those past it.
 */
export async function listEnvelopes(custody: Custody, server: SyncServer, box: 'inbox' | 'sent'): Promise<EnvelopeView[]> {
  custody.vault.keys();
  return server.run('list envelopes', async (c) => {
    const rows = (
      await c.query<EnvelopeRow>(
        `SELECT e.id, e.issuer, e.recipient_role, k.fingerprint, e.package_sha256, octet_length(e.package)::int AS size, e.created_at, e.expires_at, current_user AS me
         FROM custody.envelope e LEFT JOIN custody.reviewer_key k ON k.recipient_sha256 = e.recipient_sha256
         WHERE ${box === 'inbox' ? 'e.recipient_role = current_user' : 'e.issuer = current_user'} ORDER BY e.created_at DESC, e.id`,
      )
    ).rows;
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    if (box === 'sent') {
      // Best effort: a concurrent change (an open just before the expiry) wins.
      const stale = rows.filter((r) => r.expires_at && r.expires_at.getTime() <= Date.now()).map((r) => r.id);
      for (const id of stale) await c.query("INSERT INTO custody.envelope_event (envelope_id, status) SELECT $1, 'expired' WHERE custody.envelope_status($1) IN ('pending', 'delivered')", [id]).catch(() => undefined);
    }
    const events = (await c.query<{ envelope_id: string; status: EnvelopeStatus; actor: string; at: Date }>('SELECT envelope_id, status, actor, at FROM custody.envelope_event WHERE envelope_id = ANY($1::uuid[]) ORDER BY id', [ids])).rows;
    const opens = (await c.query<{ envelope_id: string; actor: string; at: Date; success: boolean }>('SELECT envelope_id, actor, at, success FROM custody.envelope_open WHERE envelope_id = ANY($1::uuid[]) ORDER BY id', [ids])).rows;
    return rows.map((r): EnvelopeView => {
      const ev = events.filter((e) => e.envelope_id === r.id).map((e) => ({ status: e.status, actor: e.actor, at: e.at.toISOString() }));
      return {
        id: r.id,
        direction: r.issuer === r.me ? 'sent' : 'received',
        issuer: r.issuer,
        recipientRole: r.recipient_role,
        recipientFingerprint: r.fingerprint ?? '',
        packageSha256: r.package_sha256,
        size: r.size,
        createdAt: r.created_at.toISOString(),
        expiresAt: r.expires_at?.toISOString() ?? null,
        status: ev.at(-1)?.status ?? 'pending',
        openedAt: ev.find((e) => e.status === 'opened')?.at ?? null,
        events: ev,
        openAttempts: opens.filter((o) => o.envelope_id === r.id).map((o) => ({ actor: o.actor, at: o.at.toISOString(), success: o.success })),
      };
    });
  });
}

/**
 * Fetches a package addressed to this analyst and marks it delivered (the first time). The
 * bytes must hash to what the issuer's push recorded. Audited as envelope.fetched.
 */
export async function fetchEnvelope(custody: Custody, server: SyncServer, id: string): Promise<Uint8Array> {
  assertId(id);
  custody.vault.keys();
  const pkg = await server.tx('fetch the envelope', async (c) => {
    const row = (await c.query<{ package: Buffer; package_sha256: string }>('SELECT package, package_sha256 FROM custody.envelope WHERE id = $1 AND recipient_role = current_user', [id])).rows[0];
    if (!row) throw new CustodyError('NOT_FOUND', `no envelope ${id} waits for you (it may have been withdrawn or have expired)`);
    if (sha256(row.package) !== row.package_sha256) throw new CustodyError('TAMPERED', `envelope ${id}: the package does not match the hash recorded when it was sent`);
    await c.query("INSERT INTO custody.envelope_event (envelope_id, status) SELECT $1, 'delivered' WHERE custody.envelope_status($1) = 'pending'", [id]);
    return { bytes: new Uint8Array(row.package), hash: row.package_sha256 };
  });
  await custody.vault.record({ event: 'envelope.fetched', target: target(id), details: { packageSha256: pkg.hash } });
  return pkg.bytes;
}

/**
 * Fetches and opens an envelope with `open` (the disclosure opener): the attempt goes to the
 * server's decryption log, success or not, and a success marks the envelope opened.
 */
export async function openEnvelope<T>(custody: Custody, server: SyncServer, id: string, open: (pkg: Uint8Array) => Promise<T>): Promise<T> {
  const pkg = await fetchEnvelope(custody, server, id);
  let result: T;
  try {
    result = await open(pkg);
  } catch (e) {
    await logOpen(server, id, false).catch(() => undefined);
    throw e;
  }
  await logOpen(server, id, true);
  return result;
}

async function logOpen(server: SyncServer, id: string, success: boolean): Promise<void> {
  await server.tx('record the opening', async (c) => {
    await c.query('INSERT INTO custody.envelope_open (envelope_id, success) VALUES ($1, $2)', [id, success]);
    if (success) await c.query("INSERT INTO custody.envelope_event (envelope_id, status) SELECT $1, 'opened' WHERE custody.envelope_status($1) IN ('pending', 'delivered')", [id]);
  });
}

/** Withdraws an envelope this analyst issued, if it was not opened yet. Audited. */
export async function withdrawEnvelope(custody: Custody, server: SyncServer, id: string): Promise<void> {
  assertId(id);
  custody.vault.keys();
  await server.tx('withdraw the envelope', async (c) => {
    const row = (await c.query<{ status: string | null }>('SELECT custody.envelope_status(id) AS status FROM custody.envelope WHERE id = $1 AND issuer = current_user', [id])).rows[0];
    if (!row) throw new CustodyError('NOT_FOUND', `you issued no envelope ${id}`);
    if (row.status === 'opened') throw new CustodyError('CONFLICT', `envelope ${id} was already opened by its recipient: it can no longer be withdrawn`);
    if (row.status === 'withdrawn' || row.status === 'expired') throw new CustodyError('CONFLICT', `envelope ${id} is ${row.status} already`);
    await c.query("INSERT INTO custody.envelope_event (envelope_id, status) VALUES ($1, 'withdrawn')", [id]);
  });
  await custody.vault.record({ event: 'envelope.withdrawn', target: target(id) });
}
