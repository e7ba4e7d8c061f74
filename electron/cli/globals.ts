// What every command shares: the global options, the vault it names, and one audit session per
// command (the unlock entry names the command; no lock entry follows).
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { Custody } from '../core/custody.ts';
import { defaultVaultDir } from '../core/vault/location.ts';
import { masterPassword } from './secrets.ts';

/** The options given before the command: `custody --vault DIR --json list`. */
export interface Globals {
  vault?: string;
  passwordFile?: string;
  json?: boolean;
}

/** A command's own options merged with the global ones. */
export const opts = <T = object>(cmd: Command): Globals & T => cmd.optsWithGlobals() as Globals & T;

export const vaultDir = (g: Globals): string => resolve(g.vault ?? process.env.CUSTODY_VAULT ?? defaultVaultDir());

/** Repeatable options: `--tag a --tag b`. */
export const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** The command this process runs (set before its action): it names the audit session. */
let runningCommand: string | undefined;
export const setRunningCommand = (name: string): void => {
  runningCommand = name;
};
export const currentCommand = (): string | undefined => runningCommand;

/**
 * Opens and unlocks the vault for one command, and always closes (and so locks) it. The command
 * is one audit session: its unlock entry names it, and no lock entry follows.
 */
export async function withVault<T>(g: Globals, fn: (c: Custody) => Promise<T>, o: { unlock?: boolean } = {}): Promise<T> {
  const custody = await Custody.open(vaultDir(g), runningCommand ? { command: runningCommand } : {});
  try {
    if (o.unlock !== false) await custody.unlock(await masterPassword(g), { buildIndex: false });
    return await fn(custody);
  } finally {
    await custody.close();
  }
}
