// Audit sync: each device pushes its own entries (the exact canonical bytes it hashed) and its
// signed checkpoints; on pull it checks every other device's log as that device signed it:
//   - the device's key is attested by the vault key (device.ts);
//   - entries arrive numbered without gaps or repeats, each hashing to its leaf and naming
//     its device and position;
//   - that device's Merkle tree, recomputed here from every leaf pulled so far, has the root
//     of each of its signed checkpoints, and still the root of the last one verified here
//     (consistency: nothing before it was dropped, edited or reordered since);
//   - the server still holds at least as many entries as were pulled before.
// A server that drops, edits, reorders or withholds entries is reported, and the report is
// itself a local audit entry (sync.server_misbehaved), once per distinct problem. The record
// events among the entries taken in are what a pull later accepts changes on (evidence.ts).
import { checkpointVerifiers, logOrigin } from '../../audit/checkpoints.ts';
import { openCheckpoint, type Checkpoint } from '../../audit/tlog/checkpoint.ts';
import { leafHash } from '../../audit/tlog/hash.ts';
import { CompactRange } from '../../audit/tlog/tree.ts';
import type { AuditInput } from '../../audit/entry.ts';
import type { SyncContext, SyncProblem } from './context.ts';
import { attestedKeyUnderAny } from './device.ts';
import { revokedDevices } from '../../keys/deviceRevocation.ts';
import { indexRecordEvents } from './evidence.ts';

const PUSH_BATCH = 2000;
const PULL_BATCH = 5000;

/** Pushes this device's entries and checkpoints not pushed yet; returns how many entries. */
export async function pushAudit(ctx: SyncContext): Promise<number> {
  const { vault, state, server, vaultId, deviceId } = ctx;
  // A checkpoint over everything logged so far, so other devices can verify all of it.
  await vault.checkpointNow('batch');
  let pushed = 0;
  for (;;) {
    const rows = vault.audit.entriesFrom(state.num('audit_pushed'), PUSH_BATCH);
    if (rows.length === 0) break;
    const next = rows.at(-1)!.seq + 1;
    const cps = vault.checkpoints.notesBetween(state.num('checkpoint_pushed'), next);
    const times = rows.map((r) => r.time);
    await server.tx('push audit entries', async (c) => {
      await c.query('SELECT custody.ensure_audit_partitions($1, $2)', [new Date(Math.min(...times)), new Date(Math.max(...times))]);
      await c.query(
        `INSERT INTO custody.audit_entry (vault_id, device_id, seq, time, entry, leaf_hash)
         SELECT $1, $2, u.* FROM unnest($3::bigint[], $4::timestamptz[], $5::text[], $6::bytea[]) AS u ON CONFLICT DO NOTHING`,
        [vaultId, deviceId, rows.map((r) => r.seq), rows.map((r) => new Date(r.time).toISOString()), rows.map((r) => r.entry), rows.map((r) => r.leafHash)],
      );
      if (cps.length)
        await c.query('INSERT INTO custody.audit_checkpoint (vault_id, device_id, size, note) SELECT $1, $2, u.* FROM unnest($3::bigint[], $4::text[]) AS u ON CONFLICT DO NOTHING', [
          vaultId,
          deviceId,
          cps.map((cp) => cp.size),
          cps.map((cp) => cp.note),
        ]);
    });
    await vault.db.writeSync(() => {
      state.set('audit_pushed', next);
      if (cps.length) state.set('checkpoint_pushed', cps.at(-1)!.size);
    });
    pushed += rows.length;
    ctx.onProgress?.({ phase: 'audit', done: pushed, total: pushed });
  }
  return pushed;
}

interface PulledEntry {
  seq: number;
  time: number;
  entry: string | null;
  leafHash: Buffer;
}

/** Checks one pulled row; returns the problem, or undefined. */
function checkEntry(device: string, expected: number, row: { seq: number; entry: string | null; leafHash: Buffer }): SyncProblem | undefined {
  if (row.seq < expected) return { device, kind: 'duplicate', seq: row.seq, message: `the server holds entry ${row.seq} of device ${device} twice` };
  if (row.seq > expected) return { device, kind: 'missing', seq: expected, message: `the server dropped entr${row.seq - expected === 1 ? `y ${expected}` : `ies ${expected} to ${row.seq - 1}`} of device ${device}` };
  if (row.entry === null) return undefined; // pruned by retention on that device: only the leaf remains
  let e: { seq?: unknown; device?: unknown };
  try {
    e = JSON.parse(row.entry) as typeof e;
  } catch {
    e = {};
  }
  if (!leafHash(Buffer.from(row.entry, 'utf8')).equals(row.leafHash) || e.seq !== row.seq || e.device !== device)
    return { device, kind: 'modified', seq: row.seq, message: `entry ${row.seq} of device ${device} was changed on the server (it no longer matches its hash or its place)` };
  return undefined;
}

export interface AuditPullResult {
  entries: number;
  problems: SyncProblem[];
}

/** Pulls and verifies the other devices' logs. */
export async function pullAudit(ctx: SyncContext): Promise<AuditPullResult> {
  const { vault, server, vaultId, deviceId } = ctx;
  const sql = vault.db.sql;
  const devices = await server.query('list devices', (p) => p.serverDevice.findMany({ where: { vaultId }, orderBy: { registeredAt: 'asc' } }));
  const result: AuditPullResult = { entries: 0, problems: [] };
  const audit: AuditInput[] = [];
  // Nothing more is taken from a device revoked by a device of this vault (keys/deviceRevocation.ts).
  const revoked = await revokedDevices(server, vault);
  for (const d of devices) {
    if (d.id === deviceId || revoked.has(d.id)) continue;
    const known = sql.prepare('SELECT public_key, verified_size, verified_root, problem FROM remote_device WHERE id = ?').get(d.id) as
      | { public_key: Buffer; verified_size: number; verified_root: Buffer | null; problem: string | null }
      | undefined;
    const report = (p: SyncProblem) => {
      result.problems.push(p);
      if (known?.problem !== p.message) audit.push({ event: 'sync.server_misbehaved', target: `device:${d.id}`, success: false, details: { device: d.id, kind: p.kind, ...(p.seq !== undefined ? { seq: p.seq } : {}) } });
    };
    const key = attestedKeyUnderAny(vault.keys().vaultKeys, vaultId, d.id, d.publicKey, d.attestation);
    // A key is pinned once a checkpoint signed by it verified here.
    if (!key || (known && known.verified_size > 0 && !known.public_key.equals(key))) {
      const p = { device: d.id, kind: 'device-key', message: `the server presents a key for device ${d.id} that no device of this vault registered` };
      report(p);
      // Remembered (without replacing a pinned key) so it is logged once.
      await vault.db.writeSync(() =>
        sql
          .prepare('INSERT INTO remote_device (id, public_key, problem) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET problem = excluded.problem')
          .run(d.id, Buffer.from(d.publicKey), p.message),
      );
      continue;
    }
    const checked = await checkDevice(ctx, d.id, key, known);
    for (const p of checked.problems) report(p);
    await vault.db.writeSync(() => {
      sql
        .prepare(
          `INSERT INTO remote_device (id, public_key, verified_size, verified_root, problem) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET public_key = excluded.public_key, verified_size = excluded.verified_size, verified_root = excluded.verified_root, problem = excluded.problem`,
        )
        .run(d.id, key, checked.verifiedSize, checked.verifiedRoot, checked.problems[0]?.message ?? null);
      const insert = sql.prepare('INSERT INTO remote_audit_entry (device_id, seq, time, entry, leaf_hash) VALUES (?, ?, ?, ?, ?)');
      for (const e of checked.accepted) insert.run(d.id, e.seq, e.time, e.entry, e.leafHash);
      // What backs that device's edits, trash changes and purges when their rows are pulled.
      indexRecordEvents(sql, d.id, checked.accepted);
    });
    result.entries += checked.accepted.length;
  }
  if (audit.length) await vault.record(...audit);
  return result;
}

interface DeviceCheck {
  accepted: PulledEntry[];
  verifiedSize: number;
  verifiedRoot: Buffer | null;
  problems: SyncProblem[];
}

async function checkDevice(ctx: SyncContext, device: string, key: Buffer, known: { verified_size: number; verified_root: Buffer | null } | undefined): Promise<DeviceCheck> {
  const { vault, server, vaultId } = ctx;
  const sql = vault.db.sql;
  const have = (sql.prepare('SELECT count(*) AS n FROM remote_audit_entry WHERE device_id = ?').get(device) as { n: number }).n;
  const verifiedSize = known?.verified_size ?? 0;
  const verifiedRoot = known?.verified_root ?? null;
  const fail = (p: SyncProblem): DeviceCheck => ({ accepted: [], verifiedSize, verifiedRoot, problems: [p] });

  const onServer = await server.query('count audit entries', (p) => p.serverAuditEntry.count({ where: { vaultId, deviceId: device } }));
  if (onServer < have) return fail({ device, kind: 'rolled-back', seq: onServer, message: `the server holds ${onServer} audit entries of device ${device}, but ${have} were pulled from it before: entries were deleted` });

  const accepted: PulledEntry[] = [];
  for (let expected = have; ; ) {
    const rows = await server.query('pull audit entries', (p) =>
      p.serverAuditEntry.findMany({ where: { vaultId, deviceId: device, seq: { gte: BigInt(expected) } }, orderBy: [{ seq: 'asc' }, { time: 'asc' }], take: PULL_BATCH, select: { seq: true, time: true, entry: true, leafHash: true } }),
    );
    for (const r of rows) {
      const row = { seq: Number(r.seq), time: r.time.getTime(), entry: r.entry, leafHash: Buffer.from(r.leafHash) };
      const problem = checkEntry(device, expected, row);
      if (problem) return fail(problem);
      accepted.push(row);
      expected++;
    }
    if (rows.length < PULL_BATCH) break;
  }

  const origin = logOrigin(vaultId);
  // That device's own key name, or the log origin for checkpoints signed before key names.
  const verifiers = checkpointVerifiers(vaultId, device, key);
  const notes = await server.query('pull checkpoints', (p) => p.serverAuditCheckpoint.findMany({ where: { vaultId, deviceId: device, size: { gt: BigInt(verifiedSize) } }, orderBy: { size: 'asc' } }));
  const checkpoints: Checkpoint[] = [];
  for (const n of notes) {
    try {
      const cp = openCheckpoint(n.note, verifiers, origin).checkpoint;
      if (cp.size !== Number(n.size)) throw new Error(`it says size ${cp.size} but is filed under ${n.size}`);
      checkpoints.push(cp);
    } catch (e) {
      return fail({ device, kind: 'checkpoint-forged', seq: Number(n.size), message: `a checkpoint of device ${device} on the server is not signed by that device: ${(e as Error).message}` });
    }
  }
  const total = have + accepted.length;
  const ahead = checkpoints.find((cp) => cp.size > total);
  if (ahead) return fail({ device, kind: 'withheld', seq: total, message: `device ${device} signed ${ahead.size} audit entries but the server delivers only ${total}: entries were dropped` });

  // Recompute that device's tree over every leaf held here plus the new ones.
  const wanted = new Map<number, Buffer>(checkpoints.map((cp) => [cp.size, cp.rootHash]));
  if (verifiedRoot && verifiedSize > 0) wanted.set(verifiedSize, verifiedRoot);
  const range = new CompactRange();
  const check = (): SyncProblem | undefined => {
    const root = wanted.get(range.size);
    if (root && !range.root().equals(root))
      return { device, kind: 'checkpoint-root-mismatch', seq: range.size, message: `the first ${range.size} audit entries of device ${device} on the server differ from what it signed: entries were edited, dropped or reordered` };
    return undefined;
  };
  for (const { leaf_hash } of sql.prepare('SELECT leaf_hash FROM remote_audit_entry WHERE device_id = ? ORDER BY seq').iterate(device) as IterableIterator<{ leaf_hash: Buffer }>) {
    range.append(leaf_hash);
    const p = check();
    if (p) return fail(p);
  }
  for (const e of accepted) {
    range.append(e.leafHash);
    const p = check();
    if (p) return fail(p);
  }
  const last = checkpoints.at(-1);
  return { accepted, verifiedSize: last?.size ?? verifiedSize, verifiedRoot: last?.rootHash ?? verifiedRoot, problems: [] };
}

/**
 * Compares everything the server holds of every device's log (this one's included) with the
 * copies held here: catches entries edited or deleted on the server after they were pulled.
 */
export async function verifyServerAudit(ctx: SyncContext): Promise<SyncProblem[]> {
  const { vault, server, vaultId, deviceId, state } = ctx;
  const sql = vault.db.sql;
  const problems: SyncProblem[] = [];
  const devices = [deviceId, ...(sql.prepare('SELECT id FROM remote_device ORDER BY id').all() as { id: string }[]).map((r) => r.id)];
  for (const device of devices) {
    const local =
      device === deviceId
        ? vault.audit.leafHashes(state.num('audit_pushed'))
        : (sql.prepare('SELECT leaf_hash FROM remote_audit_entry WHERE device_id = ? ORDER BY seq').pluck().all(device) as Buffer[]);
    let expected = 0;
    for (;;) {
      const rows = await server.query('read audit entries', (p) =>
        p.serverAuditEntry.findMany({ where: { vaultId, deviceId: device, seq: { gte: BigInt(expected), lt: BigInt(local.length) } }, orderBy: [{ seq: 'asc' }, { time: 'asc' }], take: PULL_BATCH, select: { seq: true, entry: true, leafHash: true } }),
      );
      let bad: SyncProblem | undefined;
      for (const r of rows) {
        const row = { seq: Number(r.seq), entry: r.entry, leafHash: Buffer.from(r.leafHash) };
        bad = checkEntry(device, expected, row);
        if (!bad && !row.leafHash.equals(local[row.seq]!)) bad = { device, kind: 'modified', seq: row.seq, message: `entry ${row.seq} of device ${device} on the server differs from the copy pulled before` };
        if (bad) break;
        expected++;
      }
      if (bad) {
        problems.push(bad);
        break;
      }
      if (rows.length < PULL_BATCH) {
        if (expected < local.length) problems.push({ device, kind: 'missing', seq: expected, message: `the server dropped entries ${expected} to ${local.length - 1} of device ${device}` });
        break;
      }
    }
  }
  await vault.record(
    { event: 'audit.verified', success: problems.length === 0, details: { scope: 'server', devices: devices.length, problems: problems.length } },
    ...problems.map((p): AuditInput => ({ event: 'sync.server_misbehaved', target: `device:${p.device}`, success: false, details: { device: p.device, kind: p.kind, ...(p.seq !== undefined ? { seq: p.seq } : {}) } })),
  );
  return problems;
}
