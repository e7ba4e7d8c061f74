import type { ZodError } from 'zod';

/** The first schema problem, located by its path; never the offending value (it may be a password). */
export function firstIssue(e: ZodError): string {
  const issue = e.issues[0];
  if (!issue) return 'invalid request';
  const where = issue.path.length ? `${issue.path.map(String).join('.')}: ` : '';
  // Zod's own text for unknown keys quotes them, and a key can be anything the sender wrote.
  if (issue.code === 'unrecognized_keys') return `${where}${issue.keys.length} unknown key${issue.keys.length === 1 ? '' : 's'}`;
  return `${where}${issue.message}`;
}
