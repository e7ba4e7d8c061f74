// Test support: devices of one vault syncing through a test server (pg.ts).
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import type { Custody } from '../../custody.ts';
import { PASSWORD, tempDir, tempVault } from '../../testing/tempVault.ts';
import { SyncEngine, type JoinOptions } from '../client/engine.ts';

export interface Device {
  name: string;
  dir: string;
  custody: Custody;
  engine: SyncEngine;
  close(): Promise<void>;
}

const devices: Device[] = [];

/** A new vault, configured to sync with `url`. */
export async function firstDevice(url: string, name = 'A'): Promise<Device & { recoveryKey: string }> {
  const tv = await tempVault();
  const engine = new SyncEngine(tv.custody);
  await engine.configure({ url });
  const d = {
    name,
    dir: tv.dir,
    recoveryKey: tv.recoveryKey,
    get custody() {
      return tv.custody;
    },
    engine,
    close: async () => {
      await engine.close();
      await tv.cleanup();
    },
  };
  devices.push(d);
  return d;
}

/** Another device of the vault on the server, joined with the password (or as told). */
export async function joinDevice(url: string, name: string, opts: Partial<JoinOptions> = {}): Promise<Device> {
  const root = tempDir();
  const dir = join(root, 'vault');
  const { custody, engine } = await SyncEngine.join(dir, { url, password: PASSWORD, actor: name, ...opts });
  const d = {
    name,
    dir,
    custody,
    engine,
    close: async () => {
      await engine.close();
      await custody.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
  devices.push(d);
  return d;
}

export async function closeDevices(): Promise<void> {
  for (const d of devices.splice(0)) await d.close().catch(() => undefined);
}

/** Syncs every device in turn, `rounds` times (two rounds let every change reach everyone). */
export async function syncAll(list: readonly Device[], rounds = 2): Promise<void> {
  for (let i = 0; i < rounds; i++) for (const d of list) await d.engine.syncNow();
}

export interface RecordState {
  id: string;
  version: number;
  title: string;
  body: string;
  tags: string[];
  case: string;
  deleted: boolean;
  attachments: string[];
}

/** Every record of a device, decrypted (without audit entries), sorted by id. */
export async function snapshot(d: Device): Promise<RecordState[]> {
  const { custody } = d;
  const rows = await custody.vault.db.prisma.record.findMany({ orderBy: { id: 'asc' } });
  const attachments = custody.vault.db.sql.prepare('SELECT id FROM attachment WHERE record_id = ? ORDER BY id');
  return rows.map((row) => {
    const r = custody.records.decrypt(row);
    const ids = (attachments.all(row.id) as { id: string }[]).map((a) => a.id);
    return { id: row.id, version: row.version, title: r.summary.title, body: r.content.body, tags: r.summary.tags, case: r.summary.case, deleted: row.deletedAt !== null, attachments: ids };
  });
}
