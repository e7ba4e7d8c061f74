// `custody keys [--json]` and `custody keys rotate <what>`: the key registry and its rotations.
import type { Command } from 'commander';
import { CustodyError } from '../shared/errors.ts';
import { listKeys, rotationPolicy, type KeyInfo } from '../core/keys/registry.ts';
import { setRotationPolicy } from '../core/keys/policy.ts';
import { expiryWarnings } from '../core/keys/expiry.ts';
import { rotateVaultKey } from '../core/keys/vaultKeyRotation.ts';
import { rotateEpochRoot } from '../core/keys/epochRootRotation.ts';
import { rotateDeviceKey } from '../core/keys/deviceKeyRotation.ts';
import { rotateRecordKeys } from '../core/keys/recordKeys.ts';
import { listDevices, revokeDevice } from '../core/keys/deviceRevocation.ts';
import { sendRotatedKey } from '../core/keys/vaultKeyEnvelopes.ts';
import { SyncState } from '../core/sync/client/state.ts';
import { renewSelfSignedIdentity } from '../core/reports/signingIdentity.ts';
import { printJson } from './format.ts';
import { opts, withVault } from './globals.ts';
import { masterPassword, recoveryKey } from './secrets.ts';

const ROTATABLE = ['vault-key', 'epoch-root', 'device-key', 'record-keys', 'report-cert'] as const;
type Rotatable = (typeof ROTATABLE)[number];

function printKeys(keys: KeyInfo[]): void {
  const rows = keys.map((k) => [k.id, k.kind, k.algorithm, k.status, k.createdAt.slice(0, 10), k.rotatedAt?.slice(0, 10) ?? '-', k.expiresAt?.slice(0, 10) ?? '-', k.fingerprint, String(k.usageCount), k.serves ?? '']);
  const header = ['ID', 'KIND', 'ALGORITHM', 'STATUS', 'CREATED', 'ROTATED', 'EXPIRES', 'FINGERPRINT', 'USES', 'DAYS'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write([line(header), ...rows.map(line)].join('\n') + '\n');
}

/** Expiry warnings go to stderr, so --json output stays parseable. */
export function warnExpiry(keys: KeyInfo[]): void {
  for (const w of expiryWarnings(keys)) process.stderr.write(`warning: ${w}\n`);
}

/** `custody sync devices | revoke-device ID`: under the sync command, registered from here (key lifecycle). */
function registerDeviceCommands(program: Command): void {
  const sync = program.commands.find((c) => c.name() === 'sync') ?? program.command('sync').description('sync with a PostgreSQL server');
  sync
    .command('devices')
    .description("the vault's devices on the sync server: id, key fingerprint, registered, revoked")
    .action(async (_o, cmd: Command) => {
      const o = opts(cmd);
      await withVault(o, async (c) => {
        const list = await listDevices(c);
        if (o.json) return printJson(list);
        for (const d of list)
          process.stdout.write(`${d.id}  ${d.fingerprint}  registered ${d.registeredAt.slice(0, 10)}${d.revokedAt ? `  REVOKED ${d.revokedAt.slice(0, 10)}${d.revocationGenuine ? '' : ' (proof does not open with the vault key: not made by a device of this vault)'}` : ''}${d.thisDevice ? '  (this device)' : ''}\n`);
        if (list.some((d) => d.thisDevice && d.revokedAt && d.revocationGenuine)) throw new CustodyError('TAMPERED', 'this device was revoked by another device of the vault: the server refuses its changes; stop using it and join the vault again from a trusted device');
      });
    });
  sync
    .command('revoke-device <id>')
    .description('revoke a lost device: the server refuses its pushes from now on; the vault key is rotated (the new one goes to the other devices only) and so is the epoch root')
    .option('--recovery-key-file <file>', 'the recovery key, kept working (else $CUSTODY_RECOVERY_KEY, else a prompt)')
    .option('--new-recovery-key', 'issue a new recovery key instead (shown once)')
    .action(async (id: string, _o, cmd: Command) => {
      const o = opts<{ recoveryKeyFile?: string; newRecoveryKey?: boolean }>(cmd);
      await withVault(o, async (c) => {
        const password = await masterPassword(o);
        const r = await revokeDevice(c, id, { password, recovery: o.newRecoveryKey ? 'new' : { recoveryKey: await recoveryKey(o) } });
        if (o.json) return printJson(r);
        process.stdout.write(
          `Device ${r.deviceId} is revoked: the server refuses its pushes. New vault key ${r.vaultKey}, sent to ${r.sentTo.length} other device${r.sentTo.length === 1 ? '' : 's'}; records captured from ${r.fromDay} on use the new epoch root ${r.epochRoot}, which the revoked device cannot open.\n`,
        );
        if (r.leftOut.length) process.stderr.write(`warning: device${r.leftOut.length === 1 ? '' : 's'} ${r.leftOut.join(', ')} had not published an encryption key (not synced since this version): ${r.leftOut.length === 1 ? 'it' : 'they'} must join the vault again\n`);
        if (r.recoveryKey) process.stdout.write(`\nNEW RECOVERY KEY (shown only now; the old one no longer opens the vault):\n\n    ${r.recoveryKey}\n\n`);
      });
    });
}

export function registerKeyCommands(program: Command): void {
  registerDeviceCommands(program);
  const keys = program
    .command('keys')
    .description('the key registry: id, kind, algorithm, status, created, rotated, expires, fingerprint, usage count')
    .action(async (_o, cmd: Command) => {
      const o = opts(cmd);
      await withVault(o, async (c) => {
        const list = await listKeys(c.vault);
        warnExpiry(list);
        if (o.json) printJson(list);
        else printKeys(list);
      });
    });

  keys
    .command('policy')
    .description('rotate keys older than N days at the next unlock (shown as rotation_queued until then); no option: show the policy')
    .option('--epoch-root-days <n>', 'rotate the epoch root every N days', (v) => Number(v))
    .option('--device-key-days <n>', 'rotate the device signing key every N days', (v) => Number(v))
    .option('--vault-key-days <n>', 'mark the vault key for rotation after N days (you rotate it: it needs the recovery key)', (v) => Number(v))
    .action(async (_o, cmd: Command) => {
      const o = opts<{ epochRootDays?: number; deviceKeyDays?: number; vaultKeyDays?: number }>(cmd);
      await withVault(o, async (c) => {
        const change = { epoch_root: o.epochRootDays, device_signing: o.deviceKeyDays, vault_key: o.vaultKeyDays };
        const p = Object.values(change).some((v) => v !== undefined) ? await setRotationPolicy(c.vault, change) : rotationPolicy(c.vault);
        if (o.json) return printJson(p);
        const lines = Object.entries(p).map(([k, v]) => `  ${k}: every ${v} days`);
        process.stdout.write(lines.length ? `Key rotation policy:\n${lines.join('\n')}\n` : 'No key rotation policy.\n');
      });
    });

  keys
    .command('rotate <what>')
    .description(`rotate a key: ${ROTATABLE.join(', ')}`)
    .option('--recovery-key-file <file>', 'vault-key: the recovery key, kept working (else $CUSTODY_RECOVERY_KEY, else a prompt)')
    .option('--new-recovery-key', 'vault-key: issue a new recovery key instead (shown once)')
    .option('--from <day>', 'epoch-root: records captured from this UTC day (YYYY-MM-DD) on use the new root (default: today); record-keys: the first day to re-encrypt')
    .option('--until <day>', 'record-keys: the last UTC day to re-encrypt (default: the newest record)')
    .action(async (what: string, _o, cmd: Command) => {
      const o = opts<{ recoveryKeyFile?: string; newRecoveryKey?: boolean; from?: string; until?: string }>(cmd);
      if (!(ROTATABLE as readonly string[]).includes(what)) throw new CustodyError('BAD_REQUEST', `cannot rotate "${what}": choose one of ${ROTATABLE.join(', ')}`);
      await withVault(o, async (c) => {
        switch (what as Rotatable) {
          case 'vault-key': {
            const password = await masterPassword(o);
            const r = await rotateVaultKey(c.vault, { password, recovery: o.newRecoveryKey ? 'new' : { recoveryKey: await recoveryKey(o) } });
            // A synced vault sends the new key to its other devices now (else at the next sync, which retries).
            const sent = new SyncState(c.vault).configured ? await sendRotatedKey(c).catch((e: Error) => (process.stderr.write(`warning: the new vault key was not sent to the other devices yet (${e.message}); the next "custody sync" sends it\n`), null)) : null;
            if (o.json) return printJson({ ...r, ...(sent ? { sentTo: sent.sentTo, leftOut: sent.leftOut } : {}) });
            if (sent) process.stdout.write(`Sent to ${sent.sentTo.length} other device${sent.sentTo.length === 1 ? '' : 's'} of the synced vault; each takes it at its next sync.${sent.leftOut.length ? ` Not sent to ${sent.leftOut.join(', ')} (no encryption key published): join again there.` : ''}\n`);
            process.stdout.write(`New vault key ${r.keyId} (fingerprint ${r.fingerprint}); re-wrapped ${Object.entries(r.rewrapped).map(([w, n]) => `${w}: ${n}`).join(', ')}. Records and attachments were not re-encrypted.\n`);
            if (r.recoveryKey) process.stdout.write(`\nNEW RECOVERY KEY (shown only now; the old one no longer opens the vault):\n\n    ${r.recoveryKey}\n\n`);
            return;
          }
          case 'epoch-root': {
            const r = await rotateEpochRoot(c.vault, o.from ? { fromDay: o.from } : {});
            if (o.json) return printJson(r);
            process.stdout.write(`New epoch root ${r.keyId} (fingerprint ${r.fingerprint}) for records captured from ${r.fromDay} on; ${r.rewrapped} record key${r.rewrapped === 1 ? '' : 's'} of those days re-wrapped. Earlier days keep their keys.\n`);
            return;
          }
          case 'device-key': {
            const r = await rotateDeviceKey(c.vault);
            if (o.json) return printJson(r);
            process.stdout.write(`New device signing key ${r.keyId} (fingerprint ${r.fingerprint}); the old key (${r.previous}) signed the handover, recorded in the log.\nVerifier key from now on:\n  ${r.vkey}\n`);
            return;
          }
          case 'report-cert': {
            const r = await renewSelfSignedIdentity(c.vault);
            if (o.json) return printJson(r);
            process.stdout.write(`Reports are now signed by a new self-signed certificate, ${r.subject} (SHA-256 ${r.certificateSha256}), valid until ${r.expiresAt.slice(0, 10)}.\n`);
            return;
          }
          case 'record-keys': {
            const r = await rotateRecordKeys(c.vault, {
              ...(o.from ? { fromDay: o.from } : {}),
              ...(o.until ? { untilDay: o.until } : {}),
              onProgress: (p) => process.stderr.write(`re-encrypting: ${p.day} done (${p.daysDone}/${p.days} days, ${p.recordsDone} records, ${p.attachmentsDone} attachments)\n`),
            });
            if (o.json) return printJson(r);
            process.stdout.write(`${r.resumed ? 'Finished the interrupted re-encryption' : 'Re-encrypted'} of ${r.fromDay}..${r.untilDay}: ${r.recordsDone} records under new data keys, wrapped by the new epoch root ${r.keyId}; ${r.attachmentsDone} attachments re-encrypted under new keys.\n`);
            return;
          }
          default:
            throw new CustodyError('BAD_REQUEST', `rotating ${what} is not available yet`);
        }
      });
    });
}
