// `custody`: the command line over core. Each area registers its commands from its own file;
// errors go to stderr with a documented exit code.
import { Command } from 'commander';
import { CustodyError, isCustodyError } from '../shared/errors.ts';
import { diskFullError, isDiskFull } from '../core/backup/diskFull.ts';
import { damagedDatabaseError, isDatabaseDamaged } from '../core/backup/damaged.ts';
import type { VerifyFailed } from './auditCommands.ts';
import { setRunningCommand } from './globals.ts';
import { commandName } from './commandName.ts';

/** Exit codes, documented in the README. */
const EXIT: Partial<Record<CustodyError['code'], number>> = { BAD_REQUEST: 2, IMPORT_FAILED: 2, WRONG_PASSWORD: 3, WRONG_RECOVERY_KEY: 3, TOO_MANY_ATTEMPTS: 3, NOT_FOUND: 4, VAULT_NOT_FOUND: 4, CONFLICT: 5, TAMPERED: 6, ROLLED_BACK: 6, POLICY_REFUSED: 7, DISK_FULL: 8 };

type Register = (program: Command) => void;
let verifyFailed: typeof VerifyFailed | undefined;

/**
 * Each area registers its commands from its own file, loaded when needed: every area's modules
 * (reports, sync, backups, sharing and their libraries) took about half of a `custody add`.
 */
const AREAS: Record<string, () => Promise<Register>> = {
  vault: () => import('./vaultCommands.ts').then((m) => m.registerVaultCommands),
  records: () => import('./recordCommands.ts').then((m) => m.registerRecordCommands),
  attachments: () => import('./attachmentCommands.ts').then((m) => m.registerAttachmentCommands),
  audit: () => import('./auditCommands.ts').then((m) => ((verifyFailed = m.VerifyFailed), m.registerAuditCommands)),
  reports: () => import('./reportCommands.ts').then((m) => m.registerReportCommands),
  sync: () => import('./syncCommands.ts').then((m) => m.registerSyncCommands),
  backup: () => import('./backupCommands.ts').then((m) => m.registerBackupCommands),
  keys: () => import('./keyCommands.ts').then((m) => m.registerKeyCommands),
  sharing: () => import('./sharingCommands.ts').then((m) => m.registerSharingCommands),
  disclosure: () => import('./disclosureCommands.ts').then((m) => m.registerDisclosureCommands),
};

/** The everyday commands and their area; any other command (or help) loads every area. */
const AREA_OF: Record<string, string> = { add: 'records', list: 'records', show: 'records', edit: 'records', rm: 'records', history: 'records', search: 'records', import: 'records' };

/** The command word of argv (after the global options), or undefined when there is none. */
export function commandWord(argv: readonly string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--vault' || a === '--password-file') i++;
    else if (a === '--json' || a.startsWith('--vault=') || a.startsWith('--password-file=')) continue;
    else return a.startsWith('-') ? undefined : a;
  }
  return undefined;
}

/** The program with the areas `argv` needs: the command's own area when it is known, else all. */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('custody')
    .description('Custody: an encrypted evidence vault with a tamper-evident audit log')
    .option('--vault <dir>', 'vault directory (default: $CUSTODY_VAULT or the app-data folder)')
    .option('--password-file <file>', 'read the master password from a file (else $CUSTODY_PASSWORD, else a prompt)')
    .option('--json', 'machine-readable output')
    .showHelpAfterError()
    .configureOutput({ outputError: (s, write) => write(s) })
    .hook('preAction', (_program, action) => setRunningCommand(commandName(action)));
  const word = commandWord(argv);
  const area = word === undefined ? undefined : AREA_OF[word];
  if (area) {
    (await AREAS[area]!())(program);
    if (program.commands.some((c) => c.name() === word)) return program;
  }
  for (const [name, load] of Object.entries(AREAS)) if (name !== area) (await load())(program);
  return program;
}

export async function run(argv: string[]): Promise<number> {
  const program = await buildProgram(argv);
  // Every command, not only the root: a subcommand's usage error (a bad option value, a
  // missing argument) is bad input too, exit 2, and never a process.exit from inside commander.
  const overrideExit = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(overrideExit);
  };
  overrideExit(program);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    const err = e as { code?: string; exitCode?: number };
    if (typeof err.code === 'string' && err.code.startsWith('commander.')) return err.exitCode === 0 ? 0 : 2;
    if (verifyFailed && e instanceof verifyFailed) return e.exitCode;
    // A full disk is told plainly whichever layer met it (SQLITE_FULL, ENOSPC).
    const reported = isDiskFull(e) ? diskFullError(e) : isDatabaseDamaged(e) ? damagedDatabaseError(e) : e;
    if (isCustodyError(reported)) {
      process.stderr.write(`custody: ${reported.message}\n`);
      return EXIT[reported.code] ?? 1;
    }
    process.stderr.write(`custody: unexpected error: ${(e as Error).message}\n`);
    return 1;
  }
}
