// App settings (auto-lock, theme): a small JSON file beside the vault, not inside it, because
// main needs them while the vault is locked (the idle timer) and before one exists (and a
// vault is only created in an empty directory).
import { mkdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SettingsSchema, type Settings } from '../../shared/contract.ts';
import { writeFileAtomic } from '../util/atomicFile.ts';

export const DEFAULT_SETTINGS: Readonly<Settings> = { autoLockMinutes: 10, lockOnSuspend: true, theme: 'system', syncIntervalMinutes: 0 };

/** `<dir>/vault` keeps its settings in `<dir>/vault.settings.json`. */
export const settingsFileFor = (vaultDir: string): string => join(dirname(vaultDir), `${basename(vaultDir)}.settings.json`);

/** Reads the settings; a missing or unreadable file gives the defaults (keys it lacks too). */
export function readSettings(file: string): Settings {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
  const parsed = SettingsSchema.partial().safeParse(raw);
  return { ...DEFAULT_SETTINGS, ...(parsed.success ? parsed.data : {}) };
}

export function writeSettings(file: string, settings: Settings): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomic(file, `${JSON.stringify(SettingsSchema.parse(settings), null, 2)}\n`);
}

/** The keys whose value changes (what the audit entry lists). */
export function changedKeys(before: Settings, after: Settings): (keyof Settings)[] {
  return (Object.keys(after) as (keyof Settings)[]).filter((k) => before[k] !== after[k]);
}
