// `custody`: the command line over core. Each area registers its commands from its own file;
// errors go to stderr with a documented exit code.
import { Command } from 'commander';
import { CustodyError, isCustodyError } from '../shared/errors.ts';
import { registerVaultCommands } from './vaultCommands.ts';
import { registerRecordCommands } from './recordCommands.ts';
import { registerAttachmentCommands } from './attachmentCommands.ts';
import { registerAuditCommands, VerifyFailed } from './auditCommands.ts';
import { registerReportCommands } from './reportCommands.ts';
import { registerSyncCommands } from './syncCommands.ts';
import { registerBackupCommands } from './backupCommands.ts';
import { diskFullError, isDiskFull } from '../core/backup/diskFull.ts';
import { damagedDatabaseError, isDatabaseDamaged } from '../core/backup/damaged.ts';
import { registerKeyCommands } from './keyCommands.ts';
import { registerSharingCommands } from './sharingCommands.ts';
import { registerDisclosureCommands } from './disclosureCommands.ts';
import { setRunningCommand } from './globals.ts';
import { commandName } from './commandName.ts';

/** Exit codes, documented in the README. */
const EXIT: Partial<Record<CustodyError['code'], number>> = { BAD_REQUEST: 2, IMPORT_FAILED: 2, WRONG_PASSWORD: 3, WRONG_RECOVERY_KEY: 3, TOO_MANY_ATTEMPTS: 3, NOT_FOUND: 4, VAULT_NOT_FOUND: 4, CONFLICT: 5, TAMPERED: 6, ROLLED_BACK: 6, POLICY_REFUSED: 7, DISK_FULL: 8 };

export function buildProgram(): Command {
  const program = new Command('custody')
    .description('Custody: an encrypted evidence vault with a tamper-evident audit log')
    .option('--vault <dir>', 'vault directory (default: $CUSTODY_VAULT or the app-data folder)')
    .option('--password-file <file>', 'read the master password from a file (else $CUSTODY_PASSWORD, else a prompt)')
    .option('--json', 'machine-readable output')
    .showHelpAfterError()
    .configureOutput({ outputError: (s, write) => write(s) })
    .hook('preAction', (_program, action) => setRunningCommand(commandName(action)));
  registerVaultCommands(program);
  registerRecordCommands(program);
  registerAttachmentCommands(program);
  registerAuditCommands(program);
  registerReportCommands(program);
  registerSyncCommands(program);
  registerBackupCommands(program);
  registerKeyCommands(program);
  registerSharingCommands(program);
  registerDisclosureCommands(program);
  return program;
}

export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
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
    if (e instanceof VerifyFailed) return e.exitCode;
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
