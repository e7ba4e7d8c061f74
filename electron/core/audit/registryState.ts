// The key registry committed to the audit log (docs/keys.md, "The registry in the log"). The
// registry (key_registry) is a plain table: a folder writer could delete a row, put an older
// copy of it back, or edit its status, and nothing in the row itself would show it. So every
// key.* entry carries the registry's state when it was written: one "id:digest" per row, the
// digest over what a key is (kind, algorithm, status, times, fingerprint, days, the key it
// replaced, and the SHA-256 of its wrapped blob and public key). `custody audit verify` then
// compares the table with the last state the log committed.
//
// Left out of the digest, because they change without a key event and say nothing an attacker
// could use: usage_count (every checkpoint), attestation (checked against the vault key at
// every unlock), expires_at (copied from the certificate, which is what expiry reads).
import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { AuditInput } from './entry.ts';
import type { Problem } from './verifyLog.ts';

interface RegistryRow {
  id: string;
  kind: string;
  algorithm: string;
  status: string;
  created_at: unknown;
  rotated_at: unknown;
  fingerprint: string;
  from_day: string | null;
  until_day: string | null;
  replaces: string | null;
  wrapped: Buffer | null;
  public_key: Buffer | null;
}

const sha256 = (b: Buffer | null) => (b === null ? null : createHash('sha256').update(b).digest('hex'));
const stamp = (v: unknown) => (v === null || v === undefined ? null : String(v));

function rowDigest(r: RegistryRow): string {
  const body = {
    id: r.id,
    kind: r.kind,
    algorithm: r.algorithm,
    status: r.status,
    createdAt: stamp(r.created_at),
    rotatedAt: stamp(r.rotated_at),
    fingerprint: r.fingerprint,
    fromDay: r.from_day,
    untilDay: r.until_day,
    replaces: r.replaces,
    wrapped: sha256(r.wrapped),
    publicKey: sha256(r.public_key),
  };
  // 128 bits: a second preimage of a row is what an attacker would need.
  return createHash('sha256').update(canonicalize(body)!, 'utf8').digest('hex').slice(0, 32);
}

/** The registry as the log commits it: "id:digest" per row, by id. */
export function registryState(sql: Database.Database): string[] {
  const rows = sql.prepare('SELECT id, kind, algorithm, status, created_at, rotated_at, fingerprint, from_day, until_day, replaces, wrapped, public_key FROM key_registry ORDER BY id').all() as RegistryRow[];
  return rows.map((r) => `${r.id}:${rowDigest(r)}`);
}

const carriesState = (event: string) => event.startsWith('key.') && event !== 'key.tamper_detected';

/** The inputs, the last key.* one carrying the registry's state (written in the same transaction as the change). */
export function withRegistryState(sql: Database.Database, inputs: readonly AuditInput[]): readonly AuditInput[] {
  let last = -1;
  inputs.forEach((x, i) => {
    if (carriesState(x.event)) last = i;
  });
  if (last < 0) return inputs;
  const out = [...inputs];
  const x = out[last]!;
  out[last] = { ...x, details: { ...(x.details ?? {}), registry: registryState(sql) } };
  return out;
}

/** Committed states, newest first, a page at a time (a vault with many key events parses few). */
function* committedStates(db: Database.Database): Generator<{ seq: number; state: Map<string, string> }> {
  // event BETWEEN 'key.' and 'key/' is every key.* event, read through the event index.
  const page = db.prepare("SELECT seq, entry FROM audit_entry WHERE event >= 'key.' AND event < 'key/' AND entry IS NOT NULL AND seq < ? ORDER BY seq DESC LIMIT 16");
  let before = Number.MAX_SAFE_INTEGER;
  for (;;) {
    const rows = page.all(before) as { seq: number; entry: string }[];
    if (rows.length === 0) return;
    for (const r of rows) {
      before = r.seq;
      let reg: unknown;
      try {
        reg = (JSON.parse(r.entry) as { details?: { registry?: unknown } }).details?.registry;
      } catch {
        continue; // A damaged body is the log verification's finding.
      }
      if (Array.isArray(reg)) yield { seq: r.seq, state: toMap(reg.filter((x): x is string => typeof x === 'string')) };
    }
  }
}

const toMap = (state: readonly string[]) => new Map(state.map((s) => [s.slice(0, s.lastIndexOf(':')), s.slice(s.lastIndexOf(':') + 1)]));

/**
 * Compares the key registry with the last state the log committed (entry `seq`): a deleted
 * row, a row put back to an older version (named by the entry that committed that version), a
 * row whose status or any other committed column was edited, a row the log never saw. No
 * problems: they agree, or the log holds no state yet (a vault made before the registry was
 * committed, until its next key event; seq is then null).
 */
export function compareRegistry(db: Database.Database): { seq: number | null; problems: Problem[] } {
  const now = toMap(registryState(db));
  const states = committedStates(db);
  const first = states.next();
  if (first.done) return { seq: null, problems: [] };
  const { seq, state } = first.value;
  const problems: Problem[] = [];
  const changed: string[] = [];
  for (const [id, digest] of state) {
    const current = now.get(id);
    if (current === undefined) problems.push({ kind: 'registry-row-deleted', seq, message: `the key registry row ${id} was deleted: entry ${seq} committed it` });
    else if (current !== digest) changed.push(id);
  }
  for (const id of now.keys()) if (!state.has(id)) problems.push({ kind: 'registry-row-inserted', seq, message: `the key registry row ${id} is not in the registry entry ${seq} committed: it was added outside Custody` });
  if (changed.length) {
    // An older committed version of the row, put back: name the entry that committed it.
    const replayedAt = new Map<string, number>();
    for (const older of states) {
      for (const id of changed) if (!replayedAt.has(id) && older.state.get(id) === now.get(id)) replayedAt.set(id, older.seq);
      if (replayedAt.size === changed.length) break;
    }
    for (const id of changed) {
      const at = replayedAt.get(id);
      problems.push(
        at === undefined
          ? { kind: 'registry-row-modified', seq, message: `the key registry row ${id} was edited (its status, times, days, wrapped key or public key differ from what entry ${seq} committed)` }
          : { kind: 'registry-row-replayed', seq, message: `the key registry row ${id} was put back to an older version (the one entry ${at} committed; entry ${seq} committed a later one)` },
      );
    }
  }
  return { seq, problems: problems.sort((a, b) => a.message.localeCompare(b.message)) };
}

/** The key.tamper_detected entries an unlock wrote for the registry (audit/registryState.ts), after `since`. */
function recordedTampering(db: Database.Database, since = -1): { seq: number; first: string }[] {
  const rows = db.prepare("SELECT seq, entry FROM audit_entry WHERE event = 'key.tamper_detected' AND entry IS NOT NULL AND seq > ? ORDER BY seq").all(since) as { seq: number; entry: string }[];
  const out: { seq: number; first: string }[] = [];
  for (const r of rows) {
    try {
      const d = (JSON.parse(r.entry) as { details?: { kind?: unknown; problems?: unknown } }).details;
      if (d?.kind === 'registry') out.push({ seq: r.seq, first: Array.isArray(d.problems) ? String(d.problems[0]) : 'the key registry was edited' });
    } catch {
      // A damaged body is the log verification's finding.
    }
  }
  return out;
}

/**
 * At unlock, before any key event could commit the registry as it now is: the entry recording
 * what was edited while the vault was closed, or null (nothing, or already recorded since the
 * last committed state).
 */
export function registryTamperEntry(db: Database.Database, vaultTarget: string): AuditInput | null {
  const { seq, problems } = compareRegistry(db);
  if (problems.length === 0 || recordedTampering(db, seq ?? -1).length > 0) return null;
  return { event: 'key.tamper_detected', target: vaultTarget, success: false, details: { kind: 'registry', reason: 'registry-changed', problems: problems.map((p) => p.message) } };
}

/**
 * What verification reports: the registry against the last committed state, and every
 * registry edit an unlock found and recorded (a later key event commits the registry as it then
 * is, so the record of the edit is what keeps it visible).
 */
export function registryProblems(db: Database.Database): Problem[] {
  const found = compareRegistry(db).problems;
  for (const r of recordedTampering(db)) found.push({ kind: 'registry-tamper-recorded', seq: r.seq, message: `entry ${r.seq} recorded that the key registry had been edited outside Custody: ${r.first}` });
  return found;
}
