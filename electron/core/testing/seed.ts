// Test and benchmark support: a vault's worth of records and audit entries, made quickly
// through the same bulk paths the app uses (no shortcuts past encryption or the log).
import { target, type AuditInput } from '../audit/entry.ts';
import { insertRecords, type ImportedRecord } from '../records/importer.ts';
import type { Custody } from '../custody.ts';
import type { RecordData } from '../../shared/records.ts';

const EVENTS = ['record.viewed', 'record.updated', 'record.exported', 'attachment.opened'] as const;

/** `records` notes, then audit entries about them until the log holds `entries`. */
export async function seedRecordsAndLog(c: Custody, records: RecordData[], entries: number): Promise<ImportedRecord[]> {
  const made = await insertRecords(c.vault, records);
  for (let done = c.vault.audit.size(); done < entries; done += 10_000) {
    const inputs: AuditInput[] = Array.from({ length: Math.min(10_000, entries - done) }, (_, i) => ({ event: EVENTS[i % EVENTS.length]!, target: target.record(made[(done + i) % made.length]!.id) }));
    await c.vault.db.writeSync(() => c.vault.audit.appendSync(c.vault.meta, inputs));
  }
  return made;
}
