// App settings (auto-lock, theme). Two copies, because main needs them while the vault is
// locked (the idle timer, the lock screen's theme) and before one exists:
//   - the authoritative one, sealed in the vault (meta "settings", AES-GCM under a key derived
//     from the vault key): auto-lock, lock on suspend, sync interval. Only the owner can change
//     it, and only while unlocked;
//   - a plain JSON file beside the vault (not inside it: a vault is only created in an empty
//     directory), the pre-unlock cache: the theme, and the last sealed values.
// Whoever can write the folder can edit the file, so at every unlock the sealed copy wins: a
// file that disagrees is recorded as settings.tamper_detected and rewritten. While the vault
// is locked the auto-lock values do not matter (there is nothing unlocked to lock).
import { mkdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SettingsSchema, type Settings } from '../../shared/contract.ts';
import { ad, open, seal } from '../crypto/aead.ts';
import { deriveKey, wipe } from '../crypto/keys.ts';
import type { AuditInput } from '../audit/entry.ts';
import { writeFileAtomic } from '../util/atomicFile.ts';
import { metaValue, setMetaValue } from '../vault/meta.ts';
import type { Vault } from '../vault/vault.ts';

export const DEFAULT_SETTINGS: Readonly<Settings> = { autoLockMinutes: 10, lockOnSuspend: true, theme: 'system', syncIntervalMinutes: 0 };

/** The settings a folder writer must not be able to change: sealed in the vault. */
export const SEALED_KEYS = ['autoLockMinutes', 'lockOnSuspend', 'syncIntervalMinutes'] as const satisfies readonly (keyof Settings)[];
export type SealedKey = (typeof SEALED_KEYS)[number];
export type SealedSettings = Pick<Settings, SealedKey>;

/** Meta key of the sealed copy. */
export const SEALED_SETTINGS_KEY = 'settings';
const SealedSchema = SettingsSchema.pick({ autoLockMinutes: true, lockOnSuspend: true, syncIntervalMinutes: true }).strict();
export const sealedAd = (vaultId: string) => ad('settings', vaultId);
export const settingsKey = (vaultKey: Uint8Array) => deriveKey(vaultKey, 'custody/settings/v1');

/** `<dir>/vault` keeps its settings in `<dir>/vault.settings.json`. */
export const settingsFileFor = (vaultDir: string): string => join(dirname(vaultDir), `${basename(vaultDir)}.settings.json`);

export const isSealedKey = (k: string): k is SealedKey => (SEALED_KEYS as readonly string[]).includes(k);
const pickSealed = (s: Settings): SealedSettings => ({ autoLockMinutes: s.autoLockMinutes, lockOnSuspend: s.lockOnSuspend, syncIntervalMinutes: s.syncIntervalMinutes });

/** The file and whether it was there and valid (a missing file is no sign of tampering). */
export function readSettingsFile(file: string): { settings: Settings; state: 'ok' | 'missing' | 'invalid' } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { settings: { ...DEFAULT_SETTINGS }, state: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'invalid' };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { settings: { ...DEFAULT_SETTINGS }, state: 'invalid' };
  }
  const whole = SettingsSchema.safeParse(raw);
  if (whole.success) return { settings: whole.data, state: 'ok' };
  // Keys it lacks (an older file) take the defaults; values that do not parse make it invalid.
  const parsed = SettingsSchema.partial().safeParse(raw);
  return { settings: { ...DEFAULT_SETTINGS, ...(parsed.success ? parsed.data : {}) }, state: parsed.success ? 'ok' : 'invalid' };
}

/** Reads the file (the pre-unlock view); a missing or unreadable file gives the defaults. */
export const readSettings = (file: string): Settings => readSettingsFile(file).settings;

export function writeSettings(file: string, settings: Settings): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomic(file, `${JSON.stringify(SettingsSchema.parse(settings), null, 2)}\n`);
}

/** The keys whose value changes (what the audit entry lists). */
export function changedKeys(before: Settings, after: Settings): (keyof Settings)[] {
  return (Object.keys(after) as (keyof Settings)[]).filter((k) => before[k] !== after[k]);
}

/**
 * Without a sealed copy (a vault from an earlier release, or a copy someone removed), the file
 * is believed only as far as the defaults: auto-lock at most the default, lock on suspend on.
 */
export function notWeakerThanDefaults(s: SealedSettings): SealedSettings {
  const d = DEFAULT_SETTINGS;
  return {
    autoLockMinutes: s.autoLockMinutes === 0 || s.autoLockMinutes > d.autoLockMinutes ? d.autoLockMinutes : s.autoLockMinutes,
    lockOnSuspend: s.lockOnSuspend || d.lockOnSuspend,
    syncIntervalMinutes: s.syncIntervalMinutes,
  };
}

type Stored = { state: 'ok'; settings: SealedSettings } | { state: 'none' } | { state: 'damaged' };

function readSealed(vault: Vault, key: Buffer): Stored {
  const value = metaValue(vault.db.sql, SEALED_SETTINGS_KEY);
  if (value === undefined) return { state: 'none' };
  try {
    const json = open(key, Buffer.from(value, 'base64'), sealedAd(vault.vaultId), 'the sealed settings');
    const parsed = SealedSchema.safeParse(JSON.parse(json.toString('utf8')));
    return parsed.success ? { state: 'ok', settings: parsed.data } : { state: 'damaged' };
  } catch {
    return { state: 'damaged' };
  }
}

function writeSealed(vault: Vault, key: Buffer, s: SealedSettings): void {
  const value = seal(key, Buffer.from(JSON.stringify(pickSealed({ ...DEFAULT_SETTINGS, ...s }))), sealedAd(vault.vaultId)).toString('base64');
  setMetaValue(vault.db.sql, SEALED_SETTINGS_KEY, value);
}

/** Whether this vault's log says a sealed copy was made before (so a missing one was removed). */
function sealedBefore(vault: Vault): boolean {
  return vault.audit.hasEntry('settings.changed', { bodyContains: '"sealed":true' });
}

/**
 * Run right after an unlock: the sealed settings are the effective ones. The file is rewritten
 * when it disagrees, and a disagreement (or a damaged or removed sealed copy) is recorded as
 * settings.tamper_detected. The first unlock of a vault without a sealed copy seals the file's
 * values, no weaker than the defaults. Returns the effective settings (the theme from the file).
 */
export async function reconcileSettings(vault: Vault, file: string): Promise<Settings> {
  const { settings: onDisk, state: fileState } = readSettingsFile(file);
  const key = settingsKey(vault.keys().vaultKey);
  let trusted: SealedSettings;
  let rewrite: boolean;
  try {
    ({ trusted, rewrite } = await vault.db.writeSync(() => {
      const stored = readSealed(vault, key);
      const entries: AuditInput[] = [];
      let t: SealedSettings;
      if (stored.state === 'ok') {
        t = stored.settings;
      } else {
        t = notWeakerThanDefaults(pickSealed(onDisk));
        writeSealed(vault, key, t);
        const removed = stored.state === 'none' && sealedBefore(vault);
        if (stored.state === 'damaged' || removed)
          entries.push({ event: 'settings.tamper_detected', success: false, details: { where: 'vault', problem: removed ? 'the sealed settings were removed' : 'the sealed settings do not open', ...t } });
        entries.push({ event: 'settings.changed', details: { changed: SEALED_KEYS.filter((k) => t[k] !== onDisk[k]), sealed: true, ...t } });
      }
      const differs = SEALED_KEYS.filter((k) => onDisk[k] !== t[k]);
      if (stored.state === 'ok' && (fileState === 'invalid' || (fileState === 'ok' && differs.length > 0)))
        entries.push({
          event: 'settings.tamper_detected',
          success: false,
          details: { where: 'settings file', changed: differs, ...(fileState === 'invalid' ? { unreadable: true } : Object.fromEntries(differs.map((k) => [`file.${k}`, onDisk[k]]))) },
        });
      if (entries.length) vault.audit.appendSync(vault.meta, entries);
      return { trusted: t, rewrite: fileState !== 'ok' || differs.length > 0 };
    }));
  } finally {
    wipe(key);
  }
  const effective: Settings = { ...onDisk, ...trusted };
  try {
    if (rewrite) writeSettings(file, effective);
  } catch {
    // Only the cache: the sealed copy is in force, and the next unlock tries again.
  }
  return effective;
}

/**
 * Changes settings while unlocked: the sealed copy and the audit entry in one transaction,
 * then the file (a failure there is repaired at the next unlock).
 */
export async function saveSettings(vault: Vault, file: string, before: Settings, after: Settings): Promise<(keyof Settings)[]> {
  const changed = changedKeys(before, after);
  if (changed.length === 0) return changed;
  const key = settingsKey(vault.keys().vaultKey);
  try {
    await vault.db.writeSync(() => {
      if (changed.some(isSealedKey)) writeSealed(vault, key, pickSealed(after));
      vault.audit.appendSync(vault.meta, [{ event: 'settings.changed', details: { changed, ...Object.fromEntries(changed.map((k) => [k, after[k]])) } }]);
    });
  } finally {
    wipe(key);
  }
  writeSettings(file, after);
  return changed;
}
