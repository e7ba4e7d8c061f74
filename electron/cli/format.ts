// Human output for the terminal; every listing command also has --json.
import type { AuditRow } from '../shared/audit.ts';
import type { RecordSummary, RecordView, RecordVersionView } from '../shared/records.ts';

export const printJson = (value: unknown): void => {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
};

function table(rows: string[][], header: string[]): string {
  const widths = header.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))));
  const line = (cells: string[]) => cells.map((c, i) => (c.length > widths[i]! ? c.slice(0, widths[i]! - 1) + '…' : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

export function printRecords(rows: RecordSummary[]): void {
  if (rows.length === 0) {
    process.stdout.write('No records. Add one with: custody add --title "..." --body "..."\n');
    return;
  }
  process.stdout.write(
    table(
      rows.map((r) => [r.id, r.kind, r.capturedAt.slice(0, 16).replace('T', ' '), r.classification, r.case, r.title + (r.deletedAt ? ' (in trash)' : '')]),
      ['ID', 'KIND', 'CAPTURED (UTC)', 'CLASS', 'CASE', 'TITLE'],
    ),
  );
}

export function printRecord(r: RecordView): void {
  const out = [
    `${r.title}`,
    `  id              ${r.id}`,
    `  kind            ${r.kind}`,
    `  case            ${r.case || '—'}`,
    `  tags            ${r.tags.join(', ') || '—'}`,
    `  classification  ${r.classification}`,
    `  captured at     ${r.capturedAt}`,
    `  updated at      ${r.updatedAt} (version ${r.version})`,
    ...(r.deletedAt ? [`  in trash since  ${r.deletedAt}`] : []),
    ...r.fields.map((f) => `  ${f.name.padEnd(15)} ${typeof f.value === 'object' ? `${f.value.lat}, ${f.value.lon}${f.value.label ? ` (${f.value.label})` : ''}` : f.value}`),
    ...r.attachments.map((a) => `  attachment      ${a.id}  ${a.name}  ${a.size} bytes  sha256 ${a.sha256}`),
    '',
    r.body,
  ];
  process.stdout.write(out.join('\n') + '\n');
}

export function printHistory(versions: RecordVersionView[]): void {
  for (const v of versions) {
    process.stdout.write(`version ${v.version}${v.current ? ' (current)' : ''}  saved ${v.savedAt}\n  title: ${v.record.title}\n  case: ${v.record.case || '—'}  tags: ${v.record.tags.join(', ') || '—'}  classification: ${v.record.classification}\n  body: ${v.record.body.length > 200 ? v.record.body.slice(0, 200) + '…' : v.record.body}\n\n`);
  }
}

export function printAudit(rows: AuditRow[]): void {
  if (rows.length === 0) {
    process.stdout.write('No audit entries match.\n');
    return;
  }
  process.stdout.write(
    table(
      rows.map((r) => [String(r.seq), r.time.replace('T', ' ').slice(0, 19), r.event, r.success ? 'ok' : 'FAILED', r.actor, r.target ?? '', r.pruned ? '(pruned)' : JSON.stringify(r.entry?.details ?? {})]),
      ['SEQ', 'TIME (UTC)', 'EVENT', 'RESULT', 'ACTOR', 'TARGET', 'DETAILS'],
    ),
  );
}
