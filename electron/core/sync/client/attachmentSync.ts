// Attachments: the sealed row and the blob's ciphertext (the .cce file, as it lies in the
// vault) in 1 MiB chunks, so memory stays flat whatever the file's size. Attachments never
// change once added, so there is nothing to merge: each is pushed once, in one server
// transaction with its chunks (a pulled row always has its whole blob), and pulled once.
import { createReadStream, createWriteStream, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { AttachmentRows } from '../../attachments/rows.ts';
import { ATTACHMENTS_DIR } from '../../vault/header.ts';
import { lockVault } from './push.ts';
import { skipOwnChanges, type SyncContext } from './context.ts';

const CHUNK = 1024 * 1024;

const blobPath = (ctx: SyncContext, id: string) => join(ctx.vault.dir, ATTACHMENTS_DIR, `${id}.cce`);

export async function pushAttachments(ctx: SyncContext): Promise<number> {
  const { state, vault, vaultId, deviceId, server } = ctx;
  const targets = state.targets(['attachment']);
  const attachments = new AttachmentRows(vault.db.sql);
  let pushed = 0;
  for (const [i, t] of targets.entries()) {
    const a = attachments.get(t.targetId);
    // Its record not on the server yet (its push was refused): try again after the merge.
    if (a && !state.shadow(a.recordId)) continue;
    let seq = null;
    if (a) {
      const path = blobPath(ctx, a.id);
      const size = statSync(path).size;
      seq = await server.tx('push an attachment', async (c) => {
        const exists = await c.query('SELECT 1 FROM custody.attachment WHERE vault_id = $1 AND id = $2', [vaultId, a.id]);
        if (exists.rowCount) return null; // pushed before; the acknowledgement was lost
        const parent = await c.query('SELECT 1 FROM custody.record WHERE vault_id = $1 AND id = $2 AND purged_at IS NULL', [vaultId, a.recordId]);
        if (!parent.rowCount) return null; // purged elsewhere: nothing to attach it to
        await c.query(
          'INSERT INTO custody.attachment (vault_id, id, record_id, created_at, wrapped_key, meta, blob_size, device_id, change_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0)',
          [vaultId, a.id, a.recordId, new Date(a.createdAt), a.wrappedKey, a.meta, size, deviceId],
        );
        let idx = 0;
        for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) {
          await c.query('INSERT INTO custody.attachment_chunk (vault_id, attachment_id, idx, data) VALUES ($1, $2, $3, $4)', [vaultId, a.id, idx++, chunk]);
        }
        // Numbered last: the vault row's lock is held for a moment, not during the upload.
        const from = await lockVault(c, vaultId);
        await c.query('UPDATE custody.attachment SET change_seq = $3 WHERE vault_id = $1 AND id = $2', [vaultId, a.id, from + 1]);
        await c.query('UPDATE custody.vault SET change_seq = $2 WHERE id = $1', [vaultId, from + 1]);
        return { from, to: from + 1 };
      });
      pushed++;
    }
    await vault.db.writeSync(() => {
      state.done([t]);
      skipOwnChanges(state, seq);
    });
    ctx.onProgress?.({ phase: 'push', done: i + 1, total: targets.length });
  }
  return pushed;
}

/** Pulls attachments added since the cursor, or those of the given records (cursor untouched). */
export async function pullAttachments(ctx: SyncContext, recordIds?: readonly string[]): Promise<number> {
  const { state, vault, vaultId, server } = ctx;
  const attachments = new AttachmentRows(vault.db.sql);
  const hasRecord = vault.db.sql.prepare('SELECT 1 FROM record WHERE id = ?');
  const head = recordIds ? null : await server.query('read the vault', (p) => p.serverVault.findUnique({ where: { id: vaultId }, select: { changeSeq: true } }));
  let pulled = 0;
  for (;;) {
    const where = recordIds ? { vaultId, recordId: { in: [...recordIds] } } : { vaultId, changeSeq: { gt: BigInt(state.num('cursor_attachments')) } };
    const rows = await server.query('pull attachments', (p) => p.serverAttachment.findMany({ where, orderBy: { changeSeq: 'asc' }, take: recordIds ? undefined : 100 }));
    for (const a of rows) {
      // Attachments of records not here (purged here, or not pulled) are skipped.
      const wanted = !attachments.has(a.id) && hasRecord.get(a.recordId);
      if (wanted) await downloadBlob(ctx, a.id, Number(a.blobSize));
      await vault.db.writeSync(() => {
        if (wanted) {
          state.set('applying', 1);
          attachments.insertPulled({ id: a.id, recordId: a.recordId, createdAt: a.createdAt.getTime(), wrappedKey: Buffer.from(a.wrappedKey), meta: Buffer.from(a.meta) });
          state.set('applying', null);
        }
        if (!recordIds) state.set('cursor_attachments', Number(a.changeSeq));
      });
      if (wanted) pulled++;
    }
    if (rows.length) ctx.onProgress?.({ phase: 'pull', done: pulled, total: pulled });
    if (recordIds || rows.length === 0) break;
  }
  if (head && Number(head.changeSeq) > state.num('cursor_attachments')) await vault.db.writeSync(() => state.set('cursor_attachments', Number(head.changeSeq)));
  return pulled;
}

/** Streams a blob's chunks to <id>.cce (through a temporary name), checking its size. */
async function downloadBlob(ctx: SyncContext, id: string, size: number): Promise<void> {
  const dest = blobPath(ctx, id);
  if (existsSync(dest) && statSync(dest).size === size) return;
  const part = `${dest}.part`;
  const out = createWriteStream(part, { mode: 0o600 });
  let written = 0;
  try {
    for (let idx = 0; written < size; idx++) {
      const chunk = await ctx.server.query('pull an attachment', (p) => p.serverAttachmentChunk.findUnique({ where: { vaultId_attachmentId_idx: { vaultId: ctx.vaultId, attachmentId: id, idx } }, select: { data: true } }));
      if (!chunk) throw new Error(`the server is missing part ${idx} of attachment ${id}`);
      written += chunk.data.length;
      if (!out.write(chunk.data)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    if (written !== size) throw new Error(`attachment ${id} came with ${written} bytes instead of ${size}`);
    renameSync(part, dest);
  } catch (e) {
    out.destroy();
    rmSync(part, { force: true });
    throw e;
  }
}
