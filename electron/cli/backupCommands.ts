// `custody backup | backup verify | backup restore | status`, and the backup side of
// `custody restore FILE` (recordCommands.ts hands a file argument over): docs/backup.md.
import type { Command } from 'commander';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { issueProblem } from '../shared/schemaIssues.ts';
import { CustodyError } from '../shared/errors.ts';
import { Custody } from '../core/custody.ts';
import type { BackupEncryption, BackupSecrets } from '../core/backup/ageWrap.ts';
import { createBackup } from '../core/backup/createBackup.ts';
import { restoreBackup } from '../core/backup/restoreBackup.ts';
import { vaultStatusReport, type VaultStatusReport } from '../core/backup/status.ts';
import { verifyBackup } from '../core/backup/verifyBackup.ts';
import { BackupScheduleSchema, lastBackupAt, readSchedule, saveSchedule } from '../core/backup/schedule.ts';
import { printJson } from './format.ts';
import { opts, vaultDir, withVault } from './globals.ts';
import { progressBar } from './progress.ts';
import { fromFile, masterPassword, newPassword, recoveryKey } from './secrets.ts';
import { read } from 'read';
import { collectList, secretOptions, withBackupRestoreOptions } from './backupOptions.ts';

interface SecretOpts {
  passphrase?: boolean;
  passphraseFile?: string;
  identity?: string[];
}

async function passphrase(o: SecretOpts, twice: boolean): Promise<string> {
  if (o.passphraseFile) {
    return fromFile(o.passphraseFile, 'passphrase');
  }
  if (process.env.CUSTODY_BACKUP_PASSPHRASE) return process.env.CUSTODY_BACKUP_PASSPHRASE;
  if (!process.stdin.isTTY) throw new CustodyError('BAD_REQUEST', 'backup passphrase needed: pass --passphrase-file FILE or set CUSTODY_BACKUP_PASSPHRASE (no terminal to ask on)');
  const a = await read({ prompt: 'Backup passphrase: ', silent: true, replace: '', output: process.stderr });
  if (twice && a !== (await read({ prompt: 'Backup passphrase (again): ', silent: true, replace: '', output: process.stderr }))) throw new CustodyError('BAD_REQUEST', 'the two passphrases differ; nothing was written');
  return a;
}

/** What opens an encrypted backup, from --passphrase[-file] and --identity FILE. */
async function backupSecrets(o: SecretOpts): Promise<BackupSecrets> {
  const identities = (o.identity ?? []).flatMap((f) => {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      throw new CustodyError('BAD_REQUEST', `cannot read the identity file ${f}`);
    }
    return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.startsWith('AGE-SECRET-KEY-'));
  });
  return { identities, ...(o.passphrase || o.passphraseFile ? { passphrase: await passphrase(o, false) } : {}) };
}

interface RecoveryOpts {
  recoveryKey?: boolean;
  recoveryKeyFile?: string;
}
const usesRecoveryKey = (o: RecoveryOpts) => o.recoveryKey === true || o.recoveryKeyFile !== undefined;


export async function restoreFromBackup(file: string, cmd: Command): Promise<void> {
  const o = opts<SecretOpts & RecoveryOpts & { checkpoint?: string; newPasswordFile?: string }>(cmd);
  if (!o.vault && !process.env.CUSTODY_VAULT) throw new CustodyError('BAD_REQUEST', 'name the new vault folder: custody restore FILE --vault NEW_DIR');
  const dir = vaultDir(o);
  const secrets = await backupSecrets(o);
  const secret = usesRecoveryKey(o) ? { recoveryKey: await recoveryKey(o), newPassword: await newPassword(o) } : { password: await masterPassword(o) };
  const bar = progressBar('restore', 'bytes');
  const total = statSync(file).size;
  try {
    const r = await restoreBackup(resolve(file), dir, { ...secret, secrets, heldCheckpoint: o.checkpoint, onProgress: (done) => bar.update(Math.min(done, total), total) });
    bar.stop();
    if (o.json) return printJson({ dir: r.dir, vaultId: r.manifest.vaultId, backupCreatedAt: r.manifest.createdAt, records: r.manifest.records, attachments: r.manifest.attachments, auditEntries: r.manifest.audit.size, rollback: r.rollback });
    process.stdout.write(`Restored vault ${r.manifest.vaultId} into ${r.dir}: ${r.manifest.records} records, ${r.manifest.attachments} attachments, ${r.manifest.audit.size} audit entries (backup of ${r.manifest.createdAt}).\n`);
    if ('recoveryKey' in secret) process.stdout.write('Opened with the recovery key: the restored vault now opens with the new master password (and the same recovery key).\n');
    if (r.rollback) process.stdout.write(`${r.rollback.message}\n`);
    else if (!o.checkpoint) process.stdout.write('No checkpoint was given to compare with (--checkpoint): whether newer entries existed is not known.\n');
  } finally {
    bar.stop();
  }
}

async function runVerify(file: string, cmd: Command): Promise<void> {
  const o = opts<SecretOpts & RecoveryOpts & { full?: boolean }>(cmd);
  const secrets = await backupSecrets(o);
  const byRecovery = usesRecoveryKey(o);
  const password = !byRecovery && (o.full || o.passwordFile || process.env.CUSTODY_PASSWORD) ? await masterPassword(o) : undefined;
  const v = await verifyBackup(resolve(file), { password, ...(byRecovery ? { recoveryKey: await recoveryKey(o) } : {}), secrets });
  if (o.json) printJson(v);
  else if (v.ok) {
    const m = v.manifest!;
    process.stdout.write(`ok: backup of vault ${m.vaultId} made ${m.createdAt}: ${m.records} records, ${m.attachments} attachments, ${m.audit.size} audit entries; ${m.files.length} files match the signed manifest\n`);
    process.stdout.write(v.level === 'full' ? `full check: the ${byRecovery ? 'recovery key' : 'password'} opens the backed-up vault and its audit log verifies\n` : 'structure checked (no password given: use --full for the full check)\n');
  } else {
    process.stdout.write(`FAILED: ${v.problems.length} problem${v.problems.length === 1 ? '' : 's'}\n`);
    for (const p of v.problems) process.stdout.write(`  - ${p}\n`);
  }
  if (!v.ok) throw new CustodyError('TAMPERED', 'the backup does not verify');
}

function printStatus(s: VaultStatusReport): void {
  const lines = [
    `vault        ${s.vault}`,
    `vault id     ${s.vaultId} (device ${s.deviceId})`,
    `records      ${s.records.total}${s.records.inTrash ? ` (${s.records.inTrash} in the trash)` : ''}, ${s.attachments} attachments`,
    `last entry   ${s.lastAuditEntry ? `#${s.lastAuditEntry.seq} ${s.lastAuditEntry.event} at ${s.lastAuditEntry.time}` : 'none'}`,
    `checkpoint   ${s.lastCheckpoint ? `size ${s.lastCheckpoint.size}, signed ${s.lastCheckpoint.createdAt} (${s.lastCheckpoint.reason})` : 'none'}`,
    `last backup  ${s.lastBackup ? `${s.lastBackup.time} (${s.lastBackup.reason ?? 'manual'}, ${s.lastBackup.auditSize ?? '?'} audit entries, encryption: ${s.lastBackup.encryption ?? 'none'})` : 'never'}`,
    `sync         ${s.sync.configured ? `configured; last sync ${s.sync.lastSyncAt ?? 'never'}; ${s.sync.pendingChanges} change(s) waiting; ${s.sync.openConflicts} open conflict(s)${s.sync.lastError ? `; last error: ${s.sync.lastError}` : ''}` : 'not configured'}`,
    `unlocked?    not knowable: an unlocked vault leaves no trace outside the process that holds its keys`,
  ];
  for (const w of s.keyWarnings) lines.push(`WARNING      ${w.message}`);
  if (s.integrityProblem) lines.push(`PROBLEM      ${s.integrityProblem}`);
  for (const p of s.registryProblems) lines.push(`PROBLEM      ${p} (custody audit verify)`);
  process.stdout.write(lines.join('\n') + '\n');
}

export function registerBackupCommands(program: Command): void {
  const backup = program
    .command('backup')
    .description('write a verified backup of the vault to one file (the vault may be open elsewhere): docs/backup.md')
    .option('--out <file>', 'the backup file to write (never overwritten)')
    .option('--to <recipient>', 'encrypt for an age recipient (age1… or age1pq1…); repeatable', collectList)
    .option('--passphrase', 'encrypt with a passphrase (asked twice, or --passphrase-file, or $CUSTODY_BACKUP_PASSPHRASE)')
    .option('--passphrase-file <file>', 'read the backup passphrase from a file')
    .action(async (_o, cmd: Command) => {
      const o = opts<SecretOpts & { out?: string; to?: string[] }>(cmd);
      if (!o.out) throw new CustodyError('BAD_REQUEST', 'name the backup file: custody backup --out FILE');
      if (o.to?.length && (o.passphrase || o.passphraseFile)) throw new CustodyError('BAD_REQUEST', 'choose --to or --passphrase, not both');
      const encryption: BackupEncryption = o.to?.length ? { kind: 'recipients', recipients: o.to } : o.passphrase || o.passphraseFile ? { kind: 'passphrase', passphrase: await passphrase(o, true) } : { kind: 'none' };
      await withVault(o, async (c) => {
        const bar = progressBar('backup', 'bytes');
        try {
          const r = await createBackup(c.vault, o.out!, { encryption, onProgress: (d, t) => bar.update(d, t) });
          bar.stop();
          if (o.json) printJson({ file: r.file, bytes: r.bytes, sha256: r.sha256, encryption: encryption.kind, records: r.manifest.records, attachments: r.manifest.attachments, auditEntries: r.manifest.audit.size });
          else process.stdout.write(`Backup written to ${r.file} (${r.bytes} bytes, ${r.manifest.records} records, ${r.manifest.attachments} attachments, ${r.manifest.audit.size} audit entries${encryption.kind === 'none' ? '; NOT encrypted beyond the vault itself' : `; age-encrypted (${encryption.kind})`}).\nSHA-256 ${r.sha256}\n`);
        } finally {
          bar.stop();
        }
      });
    });

  secretOptions(
    backup
      .command('verify <file>')
      .description('check a backup: signed manifest, every file hash, database integrity, audit log; --full also opens it with the password')
      .option('--full', 'also check that the master password opens the backed-up vault')
      .option('--recovery-key-file <file>', 'the full check with the recovery key instead of the password (read from this file)')
      .option('--recovery-key', 'the full check with the recovery key (asked, or $CUSTODY_RECOVERY_KEY)'),
  ).action(async (file: string, _o, cmd: Command) => runVerify(file, cmd));

  backup
    .command('schedule')
    .description('show or set scheduled backups (made by the app every N hours while unlocked, the newest K kept)')
    .option('--folder <dir>', 'where scheduled backups go')
    .option('--every <hours>', 'hours between backups', (v) => Number(v))
    .option('--keep <n>', 'how many scheduled backups to keep in the folder', (v) => Number(v))
    .option('--off', 'stop scheduled backups (the settings are kept)')
    .option('--on', 'start scheduled backups again')
    .action(async (_o, cmd: Command) => {
      const o = opts<{ folder?: string; every?: number; keep?: number; off?: boolean; on?: boolean }>(cmd);
      await withVault(o, async (c) => {
        const current = readSchedule(c.vault);
        const changing = o.folder !== undefined || o.every !== undefined || o.keep !== undefined || o.off || o.on;
        let s = current;
        if (changing) {
          const folder = o.folder !== undefined ? resolve(o.folder) : current?.folder;
          if (!folder) throw new CustodyError('BAD_REQUEST', 'name the folder for scheduled backups: --folder DIR');
          if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new CustodyError('NOT_FOUND', `no folder ${folder}`);
          const parsed = BackupScheduleSchema.safeParse({ enabled: o.off ? false : true, folder, everyHours: o.every ?? current?.everyHours ?? 24, keep: o.keep ?? current?.keep ?? 7 });
          if (!parsed.success) {
            // Worded like every other schema failure (shared/schemaIssues.ts), named by its option.
            const issue = parsed.error.issues[0]!;
            throw new CustodyError('BAD_REQUEST', `--${issue.path[0] === 'everyHours' ? 'every' : String(issue.path[0])}: ${issueProblem(issue)}`);
          }
          s = await saveSchedule(c.vault, parsed.data);
        }
        const last = lastBackupAt(c.vault);
        if (o.json) return printJson({ schedule: s, lastBackupAt: last === null ? null : new Date(last).toISOString() });
        if (!s) process.stdout.write('No scheduled backups. Set them with: custody backup schedule --folder DIR --every HOURS --keep N\n');
        else process.stdout.write(`Scheduled backups ${s.enabled ? 'on' : 'OFF'}: every ${s.everyHours} h while the app is unlocked, into ${s.folder}, keeping the newest ${s.keep}.\n`);
        process.stdout.write(`Last successful backup: ${last === null ? 'never' : new Date(last).toISOString()}\n`);
      });
    });

  withBackupRestoreOptions(backup.command('restore <file>')).description('restore a backup file into a new vault folder (--vault NEW_DIR); never overwrites').action(async (file: string, _o, cmd: Command) => {
    if (!existsSync(file)) throw new CustodyError('NOT_FOUND', `no backup file ${file}`);
    return restoreFromBackup(file, cmd);
  });

  program
    .command('status')
    .description('what is known about the vault without its password: records, last audit entry, checkpoint, backup, sync, key expiry')
    .action(async (_o, cmd: Command) => {
      const o = opts(cmd);
      const c = await Custody.open(vaultDir(o));
      try {
        const s = vaultStatusReport(c.vault);
        if (o.json) printJson(s);
        else printStatus(s);
      } finally {
        await c.close();
      }
    });
}
