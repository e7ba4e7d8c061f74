// Where the CLI gets passwords: --password-file, then CUSTODY_PASSWORD (as restic does), then
// a no-echo prompt on the terminal. Secrets are never echoed or logged.
import { readFileSync } from 'node:fs';
import { read } from 'read';
import { CustodyError } from '../shared/errors.ts';

/** A secret read from a file, its one trailing newline dropped (what editors and `echo` add). */
export const fromFile = (path: string, what: string): string => {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch {
    throw new CustodyError('BAD_REQUEST', `cannot read the ${what} file ${path}`);
  }
};

async function prompt(label: string): Promise<string> {
  if (!process.stdin.isTTY) throw new CustodyError('BAD_REQUEST', `${label} needed: pass --password-file FILE or set CUSTODY_PASSWORD (no terminal to ask on)`);
  return read({ prompt: `${label}: `, silent: true, replace: '', output: process.stderr });
}

export async function masterPassword(opts: { passwordFile?: string }): Promise<string> {
  if (opts.passwordFile) return fromFile(opts.passwordFile, 'password');
  if (process.env.CUSTODY_PASSWORD) return process.env.CUSTODY_PASSWORD;
  return prompt('Master password');
}

/** A new password: from a file, or CUSTODY_NEW_PASSWORD, or asked twice. */
export async function newPassword(opts: { newPasswordFile?: string }, label = 'New master password'): Promise<string> {
  if (opts.newPasswordFile) return fromFile(opts.newPasswordFile, 'new password');
  if (process.env.CUSTODY_NEW_PASSWORD) return process.env.CUSTODY_NEW_PASSWORD;
  const a = await prompt(label);
  const b = await prompt(`${label} (again)`);
  if (a !== b) throw new CustodyError('BAD_REQUEST', 'the two passwords differ; nothing was changed');
  return a;
}

export async function recoveryKey(opts: { recoveryKeyFile?: string }): Promise<string> {
  if (opts.recoveryKeyFile) return fromFile(opts.recoveryKeyFile, 'recovery key');
  if (process.env.CUSTODY_RECOVERY_KEY) return process.env.CUSTODY_RECOVERY_KEY;
  return prompt('Recovery key');
}
