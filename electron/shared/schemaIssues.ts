// Schema problems described for people without quoting what was sent: the offending value, and
// even an unknown key's name, may be analyst-written text (or a bad row of an import file), and
// these messages reach error dialogs, CLI output and the audit log of a failed import.
// badRequestMessage() is the one place a failed schema becomes the BAD_REQUEST message: main's
// dispatch (both shells), core's API and the domain's own doors (parseRequest.ts, for the CLI).
import type { core } from 'zod';

type Issue = core.$ZodIssue;

/** Where in a record the problem is: schema keys and positions only (never text from the input). */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p + 1}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}

const formatName = (format: string) => (format === 'datetime' ? 'ISO 8601 date and time with a time zone' : format === 'date' ? 'date (YYYY-MM-DD)' : format);

const what = (origin: string | undefined) => (origin === 'array' || origin === 'set' ? 'items' : 'characters');

/** What is wrong, from the issue's code and the schema's own limits. */
export function issueProblem(issue: Issue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected === 'undefined' ? 'nothing' : `a ${issue.expected}`}`;
    case 'too_big':
      if (issue.origin === 'number') return `must be at most ${String(issue.maximum)}`;
      return `is too long (at most ${String(issue.maximum)} ${what(issue.origin)})`;
    case 'too_small':
      if (issue.origin === 'number') return `must be at least ${String(issue.minimum)}`;
      if (Number(issue.minimum) === 1) return 'is empty';
      return `is too short (at least ${String(issue.minimum)} ${what(issue.origin)})`;
    case 'invalid_format':
      return `is not a valid ${formatName(issue.format)}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `has ${issue.keys.length} unknown key${issue.keys.length === 1 ? '' : 's'}`;
    case 'invalid_union': {
      if ('discriminator' in issue && issue.discriminator === 'type') return 'must be one of the field types text, number, date, location';
      // A value of one of several formats (a date, or a date and time).
      const formats = issue.errors.map((branch) => branch[0]).filter((i) => i?.code === 'invalid_format');
      if (formats.length && formats.length === issue.errors.length) return `is not a valid ${formats.map((i) => formatName((i as { format: string }).format)).join(' or ')}`;
      return 'does not match any allowed form';
    }
    case 'custom':
      // Our own refinements: fixed sentences written in the schema.
      return issue.message;
    default:
      return 'is not valid';
  }
}

/** "field title: is empty"; `whole` (the record, the request) when the path is empty. */
export function describeIssue(issue: Issue, noun = 'field', whole = 'the record'): string {
  const where = issuePath(issue.path);
  return `${where ? `${noun} ${where}` : whole}: ${issueProblem(issue)}`;
}

/** The user-facing BAD_REQUEST message of a failed parse: its first problem, by place, never by value. */
export function badRequestMessage(error: { issues: readonly Issue[] }, whole = 'the request'): string {
  const first = error.issues[0];
  return first ? describeIssue(first, 'field', whole) : `${whole} is not valid`;
}
