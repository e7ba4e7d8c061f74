// A key's status as shown and acted upon: stored status (active, retired, revoked), turned
// `expired` past its expires_at, or `rotation_queued` once a rotation policy's age is reached
// (the rotation is then done at the next unlock, keys/policy.ts). Warnings start 30 days ahead.
export type KeyStatus = 'active' | 'rotation_queued' | 'retired' | 'expired' | 'revoked';

export const WARN_DAYS = 30;
const DAY = 86_400_000;

export interface KeyTimes {
  kind: string;
  status: string;
  createdAt: number;
  rotatedAt: number | null;
  expiresAt: number | null;
}

export function keyState(k: KeyTimes, policy: Partial<Record<string, number>>, now: number): { status: KeyStatus; expiresInDays?: number } {
  if (k.status === 'revoked' || k.status === 'retired') return { status: k.status };
  if (k.expiresAt !== null && k.expiresAt <= now) return { status: 'expired' };
  const expiresInDays = k.expiresAt !== null && k.expiresAt - now <= WARN_DAYS * DAY ? Math.ceil((k.expiresAt - now) / DAY) : undefined;
  const maxAge = policy[k.kind];
  const status: KeyStatus = k.status === 'rotation_queued' || (maxAge !== undefined && now - k.createdAt >= maxAge * DAY) ? 'rotation_queued' : 'active';
  return expiresInDays !== undefined ? { status, expiresInDays } : { status };
}

/** The warnings to print (CLI stderr, `custody status`): one line per key expiring within 30 days or expired. */
export function expiryWarnings(keys: readonly { id: string; kind: string; status: string; expiresAt: string | null; expiresInDays?: number }[]): string[] {
  const out: string[] = [];
  for (const k of keys) {
    if (k.status === 'expired') out.push(`the ${describe(k.kind)} ${k.id} expired on ${k.expiresAt!.slice(0, 10)}${howToReplace(k.kind)}`);
    else if (k.expiresInDays !== undefined) out.push(`the ${describe(k.kind)} ${k.id} expires in ${k.expiresInDays} day${k.expiresInDays === 1 ? '' : 's'} (${k.expiresAt!.slice(0, 10)})${howToReplace(k.kind)}`);
  }
  return out;
}

const describe = (kind: string) => ({ pdf_signing: 'report signing certificate', device_signing: 'device signing key', epoch_root: 'epoch root', vault_key: 'vault key' })[kind] ?? `${kind} key`;

export const howToReplace = (kind: string): string =>
  kind === 'pdf_signing' ? '; replace it with your organisation\'s certificate ("custody cert import FILE.p12") or a new self-signed one ("custody keys rotate report-cert")' : `; rotate it with "custody keys rotate ${kind.replace('_signing', '-key').replace('_', '-')}"`;
