// `custody init | unlock-check | passwd | recover`: creating and opening the vault.
import type { Command } from 'commander';
import { Custody } from '../core/custody.ts';
import { masterPassword, newPassword, recoveryKey } from './secrets.ts';
import { printJson } from './format.ts';
import { opts, vaultDir, withVault } from './globals.ts';

export function registerVaultCommands(program: Command): void {
  program
    .command('init')
    .description('create a new vault and print its recovery key (shown once)')
    .option('--kdf-target-ms <ms>', 'calibrate Argon2id to take about this long here', (v) => Number(v))
    .option('--actor <name>', 'your name, as audit entries record it (default: your login name)')
    .option('--new-password-file <file>', 'read the new master password from a file')
    .action(async (_o, cmd: Command) => {
      const o = opts<{ kdfTargetMs?: number; actor?: string; newPasswordFile?: string }>(cmd);
      const dir = vaultDir(o);
      const password = o.newPasswordFile || process.env.CUSTODY_NEW_PASSWORD ? await newPassword(o) : o.passwordFile || process.env.CUSTODY_PASSWORD ? await masterPassword(o) : await newPassword(o, 'Choose a master password');
      const r = await Custody.create(dir, { password, actor: o.actor, kdfTargetMs: o.kdfTargetMs });
      if (o.json) return printJson({ vaultId: r.vaultId, dir, recoveryKey: r.recoveryKey });
      process.stdout.write(
        `Created vault ${r.vaultId} in ${dir}\n\nRECOVERY KEY (shown only now; print it or store it offline):\n\n    ${r.recoveryKey}\n\n` +
          `With it you can reset a forgotten master password: custody recover\n`,
      );
    });

  program
    .command('unlock-check')
    .description('check that the password unlocks the vault')
    .action(async (_o, cmd: Command) => {
      const o = opts(cmd);
      await withVault(o, async (c) => {
        const s = c.status();
        if (o.json) printJson({ ok: true, vaultId: s.vaultId, kdf: s.kdf });
        else process.stdout.write(`ok: the password unlocks vault ${s.vaultId}\n`);
      });
    });

  program
    .command('passwd')
    .description('change the master password (re-wraps the vault key only)')
    .option('--new-password-file <file>', 'read the new password from a file (else $CUSTODY_NEW_PASSWORD, else a prompt)')
    .action(async (_o, cmd: Command) => {
      const o = opts<{ newPasswordFile?: string }>(cmd);
      await withVault(
        o,
        async (c) => {
          const old = await masterPassword(o);
          await c.changePassword(old, await newPassword(o));
          process.stdout.write('Master password changed.\n');
        },
        { unlock: false },
      );
    });

  program
    .command('recover')
    .description('set a new master password with the recovery key')
    .option('--recovery-key-file <file>', 'read the recovery key from a file (else $CUSTODY_RECOVERY_KEY, else a prompt)')
    .option('--new-password-file <file>', 'read the new password from a file')
    .action(async (_o, cmd: Command) => {
      const o = opts<{ recoveryKeyFile?: string; newPasswordFile?: string }>(cmd);
      await withVault(
        o,
        async (c) => {
          await c.recover(await recoveryKey(o), await newPassword(o));
          process.stdout.write('Recovered: the vault now opens with the new master password.\n');
        },
        { unlock: false },
      );
    });
}
