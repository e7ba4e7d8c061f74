// Test support: signs a report folder's manifest anew over whatever files it now holds, as
// whoever holds the report's key would after changing them (a self-consistent hostile report).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signNote } from '../audit/tlog/note.ts';
import { MANIFEST_FILE, manifestText } from '../reports/manifest.ts';

export function resignReport(dir: string, seed: Uint8Array): void {
  const files = new Map<string, Uint8Array>(readdirSync(dir).filter((f) => f !== MANIFEST_FILE).map((f) => [f, readFileSync(join(dir, f))]));
  const keyName = readFileSync(join(dir, 'verifier.vkey'), 'utf8').split('+')[0]!;
  writeFileSync(join(dir, MANIFEST_FILE), signNote(manifestText(files), [{ name: keyName, privateKey: seed }]));
}
