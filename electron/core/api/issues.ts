import type { ZodError } from 'zod';

/** The first schema problem, located by its path; never the offending value (it may be a password). */
export function firstIssue(e: ZodError): string {
  const issue = e.issues[0];
  if (!issue) return 'invalid request';
  const where = issue.path.length ? `${issue.path.map(String).join('.')}: ` : '';
  return `${where}${issue.message}`;
}
