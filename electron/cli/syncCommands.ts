// `custody server ...` (provision the PostgreSQL sync server, add analysts), `custody sync ...`
// (configure, sync now, status, join as a second device, verify the server's audit copies)
// and `custody conflicts` (list, show, resolve). Connection strings hold passwords: they can
// come from a file or the environment instead of the command line (which `ps` shows), and
// are never printed in full except the one add-analyst creates, once.
import { Command, Option } from 'commander';
import { readFileSync } from 'node:fs';
import type { Custody } from '../core/custody.ts';
import { SyncEngine, type ConflictView, type SyncResult, type SyncStatus } from '../core/sync/client/engine.ts';
import { addAnalyst, provisionServer } from '../core/sync/server/provision.ts';
import { withTlsFiles } from '../core/sync/server/urlPolicy.ts';
import { CustodyError } from '../shared/errors.ts';
import { progressBar } from './progress.ts';
import { printJson } from './format.ts';
import { opts, vaultDir, withVault, type Globals } from './globals.ts';
import { masterPassword, newPassword, recoveryKey } from './secrets.ts';
import { commandName } from './commandName.ts';


function secretOption(o: { [k: string]: string | undefined }, flag: string, fileFlag: string, env: string, what: string): string {
  const direct = o[flag];
  const file = o[fileFlag];
  if (file) {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch {
      throw new CustodyError('BAD_REQUEST', `cannot read the ${what} file ${file}`);
    }
  }
  const value = direct ?? process.env[env];
  if (!value) throw new CustodyError('BAD_REQUEST', `the ${what} is needed: pass --${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}, --${fileFlag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} or set ${env}`);
  return value;
}

type TlsOptions = {
  sslRootCert?: string;
  sslCert?: string;
  sslKey?: string;
};

/** The connection string, with the certificate files given as flags (only the command line and the desktop's file dialog may name files). */
const serverUrl = (o: { url?: string; urlFile?: string } & TlsOptions) =>
  withTlsFiles(secretOption(o, 'url', 'urlFile', 'CUSTODY_SYNC_URL', 'sync server connection string'), { rootCert: o.sslRootCert, cert: o.sslCert, key: o.sslKey });
const adminUrl = (o: { adminUrl?: string; adminUrlFile?: string }) => secretOption(o, 'adminUrl', 'adminUrlFile', 'CUSTODY_ADMIN_URL', 'administrator connection string');

function printResult(r: SyncResult): void {
  const p = r.pulled;
  const q = r.pushed;
  process.stdout.write(
    `pulled ${p.records} records, ${p.attachments} attachments, ${p.auditEntries} audit entries of other devices\n` +
      `pushed ${q.records} records, ${q.attachments} attachments, ${q.auditEntries} audit entries\n` +
      (r.merged ? `merged ${r.merged} records edited on two devices\n` : '') +
      (r.conflicts ? `${r.conflicts} conflicts to resolve: custody conflicts\n` : ''),
  );
  for (const problem of r.problems) process.stdout.write(`SERVER PROBLEM: ${problem.message}\n`);
}

function printStatus(s: SyncStatus): void {
  if (!s.configured) {
    process.stdout.write('Sync is not configured (custody sync configure --url ..., or custody sync join on a new device).\n');
    return;
  }
  process.stdout.write(
    [
      `server      ${s.server ?? '(locked)'}`,
      `last sync   ${s.lastSyncAt ?? 'never'}`,
      `pending     ${s.pending}`,
      `conflicts   ${s.conflicts}`,
      ...(s.lastError ? [`last error  ${s.lastError}`] : []),
    ].join('\n') + '\n',
  );
}

function printConflicts(list: ConflictView[]): void {
  if (list.length === 0) {
    process.stdout.write('No conflicts.\n');
    return;
  }
  for (const c of list) process.stdout.write(`${c.id}  record ${c.recordId}  ${c.status}  fields: ${c.fields.join(', ') || '—'}  ${c.title}\n`);
}

export function registerSyncCommands(program: Command): void {
  const g = opts;
  /** Opens and unlocks the vault with its engine, and closes both. */
  const withEngine = <T>(o: Globals, fn: (e: SyncEngine, c: Custody) => Promise<T>) =>
    withVault(o, async (c) => {
      const engine = new SyncEngine(c);
      try {
        return await fn(engine, c);
      } finally {
        await engine.close();
      }
    });
  const syncWithBar = async (e: SyncEngine) => {
    const bar = progressBar('sync');
    return e.syncNow((p) => bar.update(p.done, p.total)).finally(bar.stop);
  };

  const server = program.command('server').description('provision the PostgreSQL sync server (run by its administrator)');
  const admin = (cmd: Command) =>
    cmd.option('--admin-url <url>', 'administrator connection string (else $CUSTODY_ADMIN_URL)').option('--admin-url-file <file>', 'read the administrator connection string from a file');

  admin(server.command('init'))
    .description('create or upgrade the sync schema: roles, row-level security, append-only audit tables, monthly partitions')
    .action(async (_o, cmd: Command) => {
      const o = g<{ adminUrl?: string; adminUrlFile?: string }>(cmd);
      const r = await provisionServer(adminUrl(o));
      if (o.json) return printJson(r);
      process.stdout.write(
        `${r.applied.length ? `applied migrations ${r.applied.join(', ')}` : 'the schema was up to date'} in database ${r.database}\n` +
          `roles: ${r.roles.owner} (owns the schema), ${r.roles.analyst} (analysts' template)\n` +
          `Run "SELECT custody.create_audit_partitions(12)" monthly (cron) to keep audit partitions ahead.\n`,
      );
    });

  admin(server.command('add-analyst <name>'))
    .description("create an analyst's login role and print its connection string (shown once)")
    .option('--host <host>', 'host analysts connect to (default: that of the admin connection)')
    .option('--port <port>', 'port analysts connect to', (v) => Number(v))
    .addOption(
      new Option('--sslmode <mode>', 'TLS mode in the printed connection string (disable: only for a server on the analyst\'s own machine)').choices(['verify-full', 'verify-ca', 'disable']).default('verify-full'),
    )
    .action(async (name: string, _o, cmd: Command) => {
      const o = g<{ adminUrl?: string; adminUrlFile?: string; host?: string; port?: number; sslmode: 'verify-full' }>(cmd);
      const a = await addAnalyst(adminUrl(o), name, { host: o.host, port: o.port, sslmode: o.sslmode });
      if (o.json) return printJson(a);
      process.stdout.write(`Created analyst ${a.role}. Their connection string (shown only now; hand it over securely):\n\n    ${a.url}\n`);
    });

  const sync = program.command('sync').description('end-to-end-encrypted sync with a PostgreSQL server');
  const urlOptions = (cmd: Command) =>
    cmd
      .option('--url <url>', 'the connection string add-analyst printed (else $CUSTODY_SYNC_URL); a server not on this machine needs sslmode=verify-full (or verify-ca with a CA certificate)')
      .option('--url-file <file>', 'read the connection string from a file')
      .option('--ssl-root-cert <file>', "the CA certificate the server's certificate must chain to (sslrootcert)")
      .option('--ssl-cert <file>', 'a client certificate, for servers that ask for one (sslcert)')
      .option('--ssl-key <file>', "the client certificate's key (sslkey)");

  sync
    .command('now', { isDefault: true })
    .description('pull, push and verify now (the default)')
    .action(async (_o, cmd: Command) => {
      const o = g(cmd);
      await withEngine(o, async (e) => {
        const r = await syncWithBar(e);
        if (o.json) printJson(r);
        else printResult(r);
      });
    });

  urlOptions(sync.command('configure'))
    .description('sync this vault with a server (the connection string is stored sealed with the vault key), then sync')
    .action(async (_o, cmd: Command) => {
      const o = g<{ url?: string; urlFile?: string } & TlsOptions>(cmd);
      const url = serverUrl(o);
      await withEngine(o, async (e) => {
        await e.configure({ url });
        const r = await syncWithBar(e);
        if (o.json) printJson({ status: e.status(), result: r });
        else {
          process.stdout.write(`Sync configured with ${e.status().server}.\n`);
          printResult(r);
        }
      });
    });

  sync
    .command('status')
    .description('is sync configured, when did it last run, what is waiting, what went wrong')
    .action(async (_o, cmd: Command) => {
      const o = g(cmd);
      await withEngine(o, async (e) => {
        if (o.json) printJson(e.status());
        else printStatus(e.status());
      });
    });

  urlOptions(sync.command('join'))
    .description('make this machine another device of a vault on the server (into a new or empty vault folder)')
    .option('--recovery-key-file <file>', 'unlock with the recovery key (else $CUSTODY_RECOVERY_KEY with --recovery-key) and choose a new password')
    .option('--recovery-key', 'unlock with the recovery key instead of the master password')
    .option('--new-password-file <file>', 'the new master password for this device (with the recovery key)')
    .option('--vault-id <id>', 'which vault, when the role holds several')
    .option('--actor <name>', 'your name, as audit entries record it')
    .action(async (_o, cmd: Command) => {
      const o = g<TlsOptions & { url?: string; urlFile?: string; recoveryKeyFile?: string; recoveryKey?: boolean; newPasswordFile?: string; vaultId?: string; actor?: string }>(cmd);
      const url = serverUrl(o);
      const dir = vaultDir(o);
      const useRecovery = o.recoveryKey || o.recoveryKeyFile !== undefined;
      const secret = useRecovery ? { recoveryKey: await recoveryKey(o), newPassword: await newPassword(o) } : { password: await masterPassword(o) };
      const bar = progressBar('join');
      const { custody, engine, result } = await SyncEngine.join(dir, { url, ...secret, vaultId: o.vaultId, actor: o.actor, command: commandName(cmd), onProgress: (p) => bar.update(p.done, p.total) }).finally(bar.stop);
      try {
        if (o.json) printJson({ vaultId: custody.vault.vaultId, deviceId: custody.vault.meta.deviceId, dir, result });
        else {
          process.stdout.write(`Joined vault ${custody.vault.vaultId} as device ${custody.vault.meta.deviceId} in ${dir}\n`);
          printResult(result);
        }
      } finally {
        await engine.close();
        await custody.close();
      }
    });

  sync
    .command('verify')
    .description("compare the server's copy of every device's audit log with the copies held here")
    .action(async (_o, cmd: Command) => {
      const o = g(cmd);
      const problems = await withEngine(o, (e) => e.verifyServer());
      if (o.json) printJson({ ok: problems.length === 0, problems });
      else if (problems.length === 0) process.stdout.write("ok: the server's audit copies match\n");
      else for (const p of problems) process.stdout.write(`SERVER PROBLEM: ${p.message}\n`);
      if (problems.length) throw new CustodyError('TAMPERED', `the server's audit copies differ from this device's (${problems.length} problem${problems.length === 1 ? '' : 's'})`);
    });

  const conflicts = program.command('conflicts').description('records edited on two devices whose edits overlap');
  conflicts
    .command('list', { isDefault: true })
    .description('list open conflicts (the default)')
    .option('--all', 'also merged and resolved ones')
    .action(async (_o, cmd: Command) => {
      const o = g<{ all?: boolean }>(cmd);
      await withEngine(o, async (e) => {
        const list = e.conflicts({ all: o.all });
        if (o.json) printJson(list);
        else printConflicts(list);
      });
    });

  conflicts
    .command('show <id>')
    .description('both versions of the fields in conflict (recorded as a view)')
    .action(async (id: string, _o, cmd: Command) => {
      const o = g(cmd);
      await withEngine(o, async (e) => {
        const d = await e.conflict(id);
        if (o.json) return printJson(d);
        process.stdout.write(`conflict ${d.id} on record ${d.recordId} (${d.status})\n`);
        for (const k of Object.keys(d.mine)) {
          const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
          process.stdout.write(`\n${k}:\n  mine:   ${show((d.mine as Record<string, unknown>)[k])}\n  theirs: ${d.theirs ? show((d.theirs as Record<string, unknown>)[k]) : '(purged on the other device)'}\n`);
        }
      });
    });

  conflicts
    .command('resolve <id>')
    .description('keep this device\'s values of the fields in conflict (mine) or the other device\'s (theirs)')
    .addOption(new Option('--keep <side>', 'which version to keep').choices(['mine', 'theirs']).makeOptionMandatory())
    .action(async (id: string, _o, cmd: Command) => {
      const o = g<{ keep: 'mine' | 'theirs' }>(cmd);
      await withEngine(o, async (e) => {
        const r = await e.resolveConflict(id, o.keep);
        if (o.json) printJson(r);
        else process.stdout.write(`resolved: kept ${o.keep}${r.version !== null ? ` (record ${r.recordId} is now at version ${r.version})` : ''}; run "custody sync" to send it\n`);
      });
    });
}
