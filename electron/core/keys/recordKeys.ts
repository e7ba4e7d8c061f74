// `custody keys rotate record-keys [--from DAY --until DAY]`, for a suspected leak of epoch
// keys: every record (and earlier version) captured in those days gets a new data key, its
// fields are sealed again under it, and its key chain is wrapped under a NEW epoch root made
// for the range, so the leaked day keys open none of it.
//
// Resumable: the job (key_job) and the new root (key_registry, from_day..until_day) are made
// first; then one transaction per day re-encrypts that day's records, moves the root's
// until_day to that day (Keyring.epochKey switches that day to the new root) and records the
// job's progress. A crash leaves each day wholly old or wholly new; running the command again
// resumes after the last finished day.
//
// Attachments of those records are re-keyed too (attachments/rekey.ts): each blob is
// re-encrypted under a new key, staged beside the old one before the day's transaction, sealed
// under the record's new data key in it, and renamed into place after it commits; a crash
// between commit and rename is settled when the job resumes. The old keys open no attachment
// left in the vault.
import { CustodyError } from '../../shared/errors.ts';
import { keyFingerprint, randomKey, wipe } from '../crypto/keys.ts';
import { target } from '../audit/entry.ts';
import { uuidv7 } from '../util/ids.ts';
import { dayRangeMs, utcDay } from '../util/time.ts';
import { openContent, openSummary, sealFields, unwrapKeys, wrapKeys } from '../records/codec.ts';
import { Keyring } from '../vault/keyring.ts';
import type { Vault } from '../vault/vault.ts';
import { assertDay, dayBefore } from './epochRootRotation.ts';

const dayAfter = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
import { faultPoint } from '../util/faults.ts';
import { sealRoot, setRootDays } from './rootWrap.ts';
import { attachmentsCapturedIn, discardStaged, placeStaged, sealStagedSync, settleStaged, stageRecordAttachments, type StagedAttachment } from '../attachments/rekey.ts';

export interface RecordKeysProgress {
  day: string;
  daysDone: number;
  days: number;
  recordsDone: number;
  /** Attachments re-encrypted by this run. */
  attachmentsDone: number;
}

export interface RecordKeysResult {
  jobId: string;
  keyId: string;
  fromDay: string;
  untilDay: string;
  recordsDone: number;
  attachmentsDone: number;
  resumed: boolean;
}

interface JobRow {
  id: string;
  key_id: string;
  from_day: string;
  until_day: string;
  done_through: string | null;
  records_done: number;
}

/** The unfinished re-encryption, if a crash (or a stop) left one. */
export function unfinishedJob(vault: Vault): JobRow | undefined {
  return vault.db.sql.prepare("SELECT id, key_id, from_day, until_day, done_through, records_done FROM key_job WHERE kind = 'record-keys' AND finished_at IS NULL ORDER BY started_at LIMIT 1").get() as JobRow | undefined;
}

export async function rotateRecordKeys(vault: Vault, opts: { fromDay?: string; untilDay?: string; onProgress?: (p: RecordKeysProgress) => void; now?: number } = {}): Promise<RecordKeysResult> {
  const keys = vault.keys();
  const sql = vault.db.sql;
  let job = unfinishedJob(vault);
  const resumed = job !== undefined;
  if (job) {
    if ((opts.fromDay && opts.fromDay !== job.from_day) || (opts.untilDay && opts.untilDay !== job.until_day))
      throw new CustodyError('BAD_REQUEST', `a re-encryption of ${job.from_day}..${job.until_day} is unfinished; run "custody keys rotate record-keys" without --from/--until to finish it first`);
  } else {
    // epoch_day is the UTC day of captured_at: the captured_at index answers min and max.
    const bounds = sql.prepare('SELECT min(captured_at) AS lo, max(captured_at) AS hi FROM record').get() as { lo: number | null; hi: number | null };
    const fromDay = opts.fromDay ?? (bounds.lo === null ? null : utcDay(new Date(bounds.lo)));
    const untilDay = opts.untilDay ?? (bounds.hi === null ? null : utcDay(new Date(bounds.hi)));
    if (!fromDay || !untilDay) throw new CustodyError('BAD_REQUEST', 'the vault has no records to re-encrypt');
    assertDay(fromDay, '--from');
    assertDay(untilDay, '--until');
    if (untilDay < fromDay) throw new CustodyError('BAD_REQUEST', '--until is before --from');
    const now = opts.now ?? Date.now();
    const root = randomKey();
    const id = uuidv7();
    const keyId = uuidv7();
    try {
      await vault.db.writeSync(() => {
        // The new root serves no day yet (until_day before from_day); each finished day extends it.
        sql
          .prepare("INSERT INTO key_registry (id, kind, algorithm, status, created_at, fingerprint, usage_count, wrapped, from_day, until_day) VALUES (?, 'epoch_root', 'HKDF-SHA-256', 'active', ?, ?, 0, ?, ?, ?)")
          .run(keyId, now, keyFingerprint(root), sealRoot(keys.vaultKey, vault.vaultId, { id: keyId, fromDay, untilDay: dayBefore(fromDay) }, root), fromDay, dayBefore(fromDay));
        sql.prepare("INSERT INTO key_job (id, kind, key_id, from_day, until_day, records_done, started_at) VALUES (?, 'record-keys', ?, ?, ?, 0, ?)").run(id, keyId, fromDay, untilDay, now);
        vault.audit.appendSync(vault.meta, [{ event: 'key.created', target: target.key(keyId), details: { kind: 'epoch_root', purpose: 'record-keys', fromDay, untilDay, job: id } }]);
      });
      keys.addRoot({ id: keyId, root: Buffer.from(root), fromDay, untilDay: dayBefore(fromDay), createdAt: now });
    } finally {
      wipe(root);
    }
    job = { id, key_id: keyId, from_day: fromDay, until_day: untilDay, done_through: null, records_done: 0 };
  }
  const j = job;
  const start = j.done_through ?? dayBefore(j.from_day);
  // A crash after a day committed and before its blobs were placed: place them now.
  const dayOf = sql.prepare('SELECT epoch_day FROM record WHERE id = ?').pluck();
  settleStaged(vault, j.id, (recordId) => {
    const d = dayOf.get(recordId) as string | undefined;
    return d !== undefined && d >= j.from_day && d <= start;
  });
  const [lo, hi] = dayRangeMs(dayAfter(start), j.until_day);
  const days = (sql.prepare('SELECT epoch_day FROM record WHERE captured_at >= ? AND captured_at < ? UNION SELECT epoch_day FROM record_version WHERE captured_at >= ? AND captured_at < ? ORDER BY 1').pluck().all(lo, hi, lo, hi) as string[]);
  let recordsDone = j.records_done;
  let attachmentsDone = 0;
  for (const [i, day] of days.entries()) {
    const done = await reencryptDay(vault, j, day);
    recordsDone += done.records;
    attachmentsDone += done.attachments;
    opts.onProgress?.({ day, daysDone: i + 1, days: days.length, recordsDone, attachmentsDone });
    if (i === 0) faultPoint('record-keys:after-first-day');
  }
  await vault.db.writeSync(() => {
    // Its days are bound to its wrap (rootWrap.ts): moving them re-wraps it.
    setRootDays(sql, keys.vaultKey, vault.vaultId, j.key_id, j.from_day, j.until_day);
    sql.prepare('UPDATE key_job SET done_through = ?, finished_at = ? WHERE id = ?').run(j.until_day, Date.now(), j.id);
    vault.audit.appendSync(vault.meta, [{ event: 'key.rotated', target: target.key(j.key_id), details: { kind: 'record_keys', fromDay: j.from_day, untilDay: j.until_day, records: recordsDone, job: j.id, resumed } }]);
  });
  await reloadRoot(vault, j.key_id);
  return { jobId: j.id, keyId: j.key_id, fromDay: j.from_day, untilDay: j.until_day, recordsDone, attachmentsDone, resumed };
}

/**
 * One day: its attachments' blobs staged under new keys, then one transaction (new data keys,
 * fields sealed again, chains under the new root, attachment keys sealed under the new data
 * keys), then the staged blobs placed.
 */
async function reencryptDay(vault: Vault, job: JobRow, day: string): Promise<{ records: number; attachments: number }> {
  const keys = vault.keys();
  const sql = vault.db.sql;
  const vid = vault.vaultId;
  const [dayStart, dayEnd] = dayRangeMs(day);
  const withAttachments = attachmentsCapturedIn(vault, dayStart, dayEnd);
  const staged: StagedAttachment[] = [];
  try {
    const wrappedOf = sql.prepare('SELECT wrapped_dek FROM record WHERE id = ?').pluck();
    for (const recordId of withAttachments.keys()) {
      const chain = unwrapKeys(keys, vid, recordId, day, wrappedOf.get(recordId) as Buffer);
      try {
        staged.push(...(await stageRecordAttachments(vault, recordId, chain, job.id)));
      } finally {
        wipe(...chain);
      }
    }
  } catch (e) {
    discardStaged(staged);
    throw e;
  }
  if (staged.length) faultPoint('record-keys:attachments-staged');
  // The day's key under the new root, which does not serve the day until this step commits.
  const ek = keys.epochKeyUnder(job.key_id, day);
  const next = { epochKey: () => ek } as unknown as Keyring;
  const moved: { id: string; untilDay: string }[] = [];
  try {
    const n = await vault.db.writeSync(() => {
      let count = 0;
      // Attachments added or removed since they were staged: the day is done again next run.
      const now = attachmentsCapturedIn(vault, dayStart, dayEnd);
      if ([...now.values()].flat().join() !== staged.map((a) => a.id).join())
        throw new CustodyError('CONFLICT', `the attachments of ${day} changed during the re-encryption; run "custody keys rotate record-keys" again to finish`);
      const recs = sql.prepare('SELECT id, kind, captured_at AS capturedAt, version, wrapped_dek AS w, summary, content FROM record WHERE captured_at >= ? AND captured_at < ?').all(dayStart, dayEnd) as { id: string; kind: string; capturedAt: number; version: number; w: Buffer; summary: Buffer; content: Buffer }[];
      const updRec = sql.prepare('UPDATE record SET wrapped_dek = ?, summary = ?, content = ? WHERE id = ?');
      for (const r of recs) {
        const mine = staged.filter((a) => a.recordId === r.id);
        const out = reseal(keys, next, vid, r.id, day, r.version, { kind: r.kind, capturedAt: r.capturedAt }, r, (dek) => sealStagedSync(vault, mine, () => dek));
        updRec.run(out.w, out.summary, out.content, r.id);
        count++;
        if (count === 1) faultPoint('record-keys:mid-day');
      }
      const vers = sql.prepare('SELECT record_id AS id, version, kind, captured_at AS capturedAt, wrapped_dek AS w, summary, content FROM record_version WHERE captured_at >= ? AND captured_at < ?').all(...dayRangeMs(day)) as { id: string; kind: string; capturedAt: number; version: number; w: Buffer; summary: Buffer; content: Buffer }[];
      const updVer = sql.prepare('UPDATE record_version SET wrapped_dek = ?, summary = ?, content = ? WHERE record_id = ? AND version = ?');
      for (const v of vers) {
        const out = reseal(keys, next, vid, v.id, day, v.version, { kind: v.kind, capturedAt: v.capturedAt }, v);
        updVer.run(out.w, out.summary, out.content, v.id, v.version);
      }
      setRootDays(sql, keys.vaultKey, vid, job.key_id, job.from_day, day);
      // Keyring serves a day from the bounded root starting latest: an earlier re-encryption's
      // root starting after this one's start would still serve this day, so it now starts after it.
      const outranking = sql.prepare("SELECT id, until_day AS untilDay FROM key_registry WHERE kind = 'epoch_root' AND id <> ? AND until_day IS NOT NULL AND from_day > ? AND from_day <= ? AND until_day >= ?").all(job.key_id, job.from_day, day, day) as { id: string; untilDay: string }[];
      for (const o of outranking) {
        setRootDays(sql, keys.vaultKey, vid, o.id, dayAfter(day), o.untilDay);
        moved.push(o);
      }
      sql.prepare('UPDATE key_job SET done_through = ?, records_done = records_done + ? WHERE id = ?').run(day, count, job.id);
      // The root now serves one more day: the log commits the registry's new state with it.
      vault.audit.appendSync(vault.meta, [{ event: 'key.rotated', target: target.key(job.key_id), details: { kind: 'record_keys_day', day, records: count, attachments: staged.length, job: job.id } }]);
      return count;
    });
    keys.extendRoot(job.key_id, day);
    for (const o of moved) keys.extendRoot(o.id, o.untilDay, dayAfter(day));
    if (staged.length) faultPoint('record-keys:before-place');
    placeStaged(vault, staged);
    return { records: n, attachments: staged.length };
  } catch (e) {
    // Not committed (a commit that failed rolled back): the staged blobs go; the old ones stay.
    if (unfinishedJob(vault)?.done_through !== day) discardStaged(staged);
    throw e;
  } finally {
    for (const a of staged) wipe(a.key);
    wipe(ek);
  }
}

function reseal(keys: Keyring, next: Keyring, vid: string, rid: string, day: string, version: number, meta: { kind: string; capturedAt: number }, row: { w: Buffer; summary: Buffer; content: Buffer }, withDek?: (dek: Buffer) => void) {
  const chain = unwrapKeys(keys, vid, rid, day, row.w);
  const dek = randomKey();
  try {
    const s = openSummary(chain[0]!, vid, rid, version, meta, row.summary);
    const c = openContent(chain[0]!, vid, rid, version, meta, row.content);
    const sealed = sealFields(dek, vid, rid, version, meta, s, c);
    withDek?.(dek);
    // The older keys stay behind the new one: attachments were sealed under them.
    return { w: wrapKeys(next, vid, rid, day, [dek, ...chain]), ...sealed };
  } finally {
    wipe(dek, ...chain);
  }
}

async function reloadRoot(vault: Vault, keyId: string): Promise<void> {
  vault.keys().extendRoot(keyId, (await vault.db.prisma.keyEntry.findUniqueOrThrow({ where: { id: keyId } })).untilDay);
}
