// Every IPC request is validated in main against the contract's zod schema (SECURITY.md, e:
// "Every IPC call is validated in main"; RULES: the renderer never names a file). This walks
// every method of the contract and checks its schema structurally — strict objects all the way
// down (an unknown key is refused), no key that names a file or folder — and then, for the
// methods added by issues 11 and 12 (sharing, disclosures, backups), parses a valid request,
// the same request with an extra key, and the same request carrying a file path.
import { describe, expect, test } from 'vitest';
import type { z } from 'zod';
import { methods, type Method } from './contract.ts';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  catchall?: { def: Def };
  options?: z.ZodType[];
  in?: z.ZodType;
  out?: z.ZodType;
  left?: z.ZodType;
  right?: z.ZodType;
  innerType?: z.ZodType;
  element?: z.ZodType;
}
const defOf = (s: z.ZodType): Def => (s as unknown as { def: Def }).def;

/** Keys that would let the window name a file or folder on this machine. */
const PATHLIKE = /^(path|paths|file|files|filename|dir|directory|folder|out|output|dest|destination)$|(path|paths|file|dir|folder)$/i;
/** Keys allowed despite the pattern: a display name the core chooses, not a path taken from the window. */
const NOT_A_PATH = new Set(['fileName', 'folderName']);

/** Problems of a schema: objects that pass unknown keys through, and path-like keys. */
function problems(s: z.ZodType, at: string, out: string[] = []): string[] {
  const d = defOf(s);
  switch (d.type) {
    case 'object':
      if (d.catchall?.def.type !== 'never') out.push(`${at}: object is not strict (unknown keys are accepted)`);
      for (const [k, v] of Object.entries(d.shape ?? {})) {
        if (PATHLIKE.test(k) && !NOT_A_PATH.has(k)) out.push(`${at}.${k}: a key that names a file or folder`);
        problems(v, `${at}.${k}`, out);
      }
      break;
    case 'union':
      d.options?.forEach((o, i) => problems(o, `${at}|${i}`, out));
      break;
    case 'pipe':
      problems(d.in!, at, out);
      break;
    case 'intersection':
      problems(d.left!, at, out);
      problems(d.right!, at, out);
      break;
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      problems(d.innerType!, at, out);
      break;
    case 'array':
      problems(d.element!, `${at}[]`, out);
      break;
  }
  return out;
}

const UUID = '01a23ddf-606c-7215-84ad-3f05338bc868';
const RECIPIENT = 'age1pq1' + 'q'.repeat(60);
/** A valid request for each method added by issues 11 and 12 (as of this test). */
const NEW_METHODS: Partial<Record<Method, Record<string, unknown>>> = {
  'backup.status': {},
  'backup.setSchedule': { enabled: true, everyHours: 24, keep: 7 },
  'backup.runNow': {},
  'sharing.identity': {},
  'sharing.createIdentity': { replace: false },
  'sharing.recipients': {},
  'sharing.addRecipient': { name: 'Supervisor', recipient: RECIPIENT, note: 'desk 4' },
  'sharing.removeRecipient': { fingerprint: 'abcd-ef01-2345-6789-abcd' },
  'sharing.policy': {},
  'sharing.setPolicy': { maxRangeDays: 14, attachmentsAllowed: false },
  'disclosures.issue': { to: ['Supervisor'], from: '2026-03-03', until: '2026-03-09', case: 'Gull', tags: ['harbour'], withAttachments: true, purpose: 'weekly review', expires: '2026-12-31' },
  'disclosures.open': { data: new Uint8Array([1, 2, 3]) },
  'disclosures.received': {},
  'disclosures.receivedGrant': { grantId: UUID },
  'disclosures.viewReceived': { grantId: UUID, recordId: UUID },
  'disclosures.issued': {},
  'disclosures.receivedAttachment': { grantId: UUID, attachmentId: UUID },
  'disclosures.acknowledge': { grantId: UUID },
  'disclosures.importAck': { data: new Uint8Array([1, 2, 3]) },
};
/** What a hostile window would add to name a file: the keys a core function of the feature takes a path under. */
const PATH_KEYS = ['path', 'out', 'file', 'folder', 'dir', 'identity', 'identityFile', 'dest'];

describe('the IPC contract: strict schemas, no file paths from the window', () => {
  test('every method: strict objects all the way down, and no key that names a file or folder', () => {
    const all = Object.keys(methods) as Method[];
    expect(all.length).toBeGreaterThan(30);
    const found = all.flatMap((m) => problems(methods[m] as z.ZodType, m));
    // Older than issues 11 and 12: a record field's object strips unknown keys (they are dropped,
    // never passed on) rather than refusing them. Listed, so any other non-strict object fails.
    const STRIPPING = /^records\.(create|update\.patch)\.fields\[\]\|[0-3](\.value)?: object is not strict/;
    expect(found.filter((f) => !STRIPPING.test(f))).toEqual([]);
  });

  const present = Object.entries(NEW_METHODS).filter(([m]) => m in methods) as [Method, Record<string, unknown>][];
  test('the sharing, disclosure and backup methods are in the contract', () => {
    expect(present.map(([m]) => m).filter((m) => m.startsWith('sharing.') || m.startsWith('disclosures.')).length).toBeGreaterThanOrEqual(13);
  });

  for (const [m, valid] of present) {
    test(`${m}: a valid request parses; an extra key or a file path is refused`, () => {
      const schema = methods[m] as z.ZodType;
      const ok = schema.safeParse(valid);
      expect(ok.success, JSON.stringify(ok.error?.issues)).toBe(true);
      expect(schema.safeParse({ ...valid, extra: 1 }).success).toBe(false);
      for (const k of PATH_KEYS) {
        if (k in valid) continue;
        expect(schema.safeParse({ ...valid, [k]: '/etc/passwd' }).success, `${m} accepted ${k}`).toBe(false);
      }
      // __proto__ and constructor are keys like any other: refused, and nothing is polluted.
      const hostile = JSON.parse(`{"__proto__": {"polluted": true}, ${JSON.stringify(valid).slice(1, -1) || '"constructor": 1'}}`) as Record<string, unknown>;
      if ('data' in valid) hostile.data = valid.data;
      schema.safeParse(hostile);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  }
});
