// Renders report.pdf (docs/reports.md) from a prepared ReportDocument:
// cover, contents, summary with the activity chart, the chain of custody of
// each record, the vault-level events summarised by type and every entry about
// the records listed, and how to verify the report; a header
// and "Page n of N" footer on every page, bookmarks, document metadata, and
// entries.json embedded beside the table it mirrors. The output is
// deterministic: the same document renders to the same bytes.
import { deflateSync } from 'node:zlib';
import { type PDFDict, PDFDocument, PDFName, type PDFRef } from 'pdf-lib';
import { defaultVerificationAppendix } from './appendix.ts';
import { codeBlock, fieldRows, metaStrip, minorHeading, sectionHeading, statCards, subHeading } from './blocks.ts';
import { drawActivityChart } from './chart.ts';
import { ENTRIES_FILE_NAME, embedEntriesFile } from './entries-file.ts';
import { embedFonts, type FontSet } from './fonts.ts';
import { PageCanvas } from './canvas.ts';
import { CONTENT_WIDTH, Layout, PAGE, THEME } from './layout.ts';
import type { ReportDocument, ReportEntry, ReportRecord } from './model.ts';
import { addLinks, addOutline, type OutlineItem } from './navigation.ts';
import { type Column, columnWidthFor, drawTable, fitColumns } from './table.ts';
import { isRecordEntry } from './summary.ts';
import { formatBytes, formatCount, formatPercent, formatTime, truncate, wrap } from './text.ts';

export interface RenderOptions {
  /** Directory holding the DejaVu TTFs (a packaged app passes its resources path). */
  fontsDir?: string;
}

const DEFAULT_TITLE = 'Chain-of-Custody Audit Report';
/** Targets are ids: monospaced, a little smaller than the table text. */
const TARGET_SIZE = 6.4;
const THIS_RECORD = 'this record';
/** Resource name of the header and footer form. */
const FURNITURE = 'PageFurniture';

const resultColour = (v: string) => (v === 'OK' ? THEME.ok : THEME.fail);
const result = (success: boolean) => (success ? 'OK' : 'Failed');
const DASH = '\u2014';
/** The Event cell of an entry whose body retention removed. */
const prunedEvent = (retentionSeq: number) => `pruned by #${retentionSeq}`;

function parseDate(iso: string): Date | undefined {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

interface TocLine {
  level: 0 | 1;
  number: string;
  title: string;
  page: number;
}

const TOC = { firstTop: PAGE.contentTop + 62, lineHeight: [21, 13.5] as const };

/** Walks the contents lines page by page; `draw` is skipped when only counting pages. */
function flowToc(lines: TocLine[], draw?: (line: TocLine, top: number, pageOfToc: number) => void): number {
  let page = 0;
  let y = TOC.firstTop;
  for (const line of lines) {
    const h = TOC.lineHeight[line.level];
    if (y + h > PAGE.contentBottom) {
      page++;
      y = PAGE.contentTop;
    }
    draw?.(line, y, page);
    y += h;
  }
  return page + 1;
}

function drawCover(layout: Layout, doc: ReportDocument, title: string): void {
  const { cover, summary } = doc;
  const { sans, sansBold } = layout.fonts;
  layout.openPage(layout.addBlankPage());
  const c = layout.canvas;
  layout.y = PAGE.contentTop + 40;
  c.text(PAGE.marginX, layout.y, 'CUSTODY \u00b7 SIGNED AUDIT REPORT', sansBold, 8, THEME.accent);
  layout.y += 16;
  for (const line of wrap(title, sansBold, 25, CONTENT_WIDTH)) {
    c.text(PAGE.marginX, layout.y + 25, line, sansBold, 25, THEME.ink);
    layout.y += 31;
  }
  for (const line of wrap(cover.vaultName, sans, 14, CONTENT_WIDTH)) {
    c.text(PAGE.marginX, layout.y + 15, line, sans, 14, THEME.muted);
    layout.y += 19;
  }
  layout.y += 12;
  c.fillRect(PAGE.marginX, layout.y, CONTENT_WIDTH, 1.2, THEME.accent);
  layout.y += 16;

  const period = cover.timeRange
    ? `${formatTime(cover.timeRange.from)} \u2013 ${formatTime(cover.timeRange.to)} UTC`
    : summary.firstEntryTime && summary.lastEntryTime
      ? `${formatTime(summary.firstEntryTime)} \u2013 ${formatTime(summary.lastEntryTime)} UTC (first to last entry)`
      : 'No entries';
  fieldRows(layout, [
    { label: 'Vault', value: cover.vaultName },
    { label: 'Vault ID', value: cover.vaultId, mono: true },
    { label: 'Analyst', value: cover.analystName },
    { label: 'Device ID', value: cover.deviceId, mono: true },
    { label: 'Scope', value: cover.scope },
    { label: 'Period', value: period },
    { label: 'Purpose', value: cover.purpose },
    { label: 'Recipient', value: cover.recipient },
    { label: 'Generated', value: `${formatTime(cover.generatedAt)} UTC` },
    {
      label: 'Contents',
      value: `${formatCount(summary.totalEntries)} audit entries \u00b7 ${formatCount(summary.totalRecords)} records \u00b7 ${formatCount(summary.totalAttachments)} attachments`,
    },
  ]);

  minorHeading(layout, 'Audit log checkpoint', 50);
  codeBlock(layout, cover.checkpoint.replace(/\n+$/, '').split('\n'), { size: 7.4 });

  if (cover.signer) {
    minorHeading(layout, 'Signing certificate', 40);
    fieldRows(layout, [
      { label: 'Subject', value: cover.signer.subject },
      { label: 'SHA-256', value: cover.signer.certificateSha256, mono: true },
    ]);
  }
  layout.y += 6;
  layout.paragraph(
    'This document is digitally signed (PAdES). Changing any byte of the file invalidates the signature. ' +
      'Appendix A explains how to verify the signature and the export this report belongs to.',
    { size: 8.4, color: THEME.muted },
  );
}

function drawSummary(layout: Layout, doc: ReportDocument): { page: number; top: number } {
  const { summary } = doc;
  const at = sectionHeading(layout, 'Section 1', 'Summary');
  statCards(layout, [
    { label: 'Audit entries', value: formatCount(summary.totalEntries), note: `${formatCount(summary.byEvent.length)} event types` },
    { label: 'Records', value: formatCount(summary.totalRecords) },
    { label: 'Attachments', value: formatCount(summary.totalAttachments) },
    {
      label: 'Success rate',
      value: formatPercent(summary.successRate),
      note: `${formatCount(summary.failureCount)} failed`,
    },
  ]);
  if (summary.firstEntryTime && summary.lastEntryTime) {
    const days = summary.byDay.length;
    layout.paragraph(
      `Entries from ${formatTime(summary.firstEntryTime)} to ${formatTime(summary.lastEntryTime)} UTC, on ${formatCount(days)} ${days === 1 ? 'day' : 'days'}.`,
      { size: 9, color: THEME.text, after: 10 },
    );
  }
  layout.ensure(280);
  const height = drawActivityChart(layout, summary, { x: PAGE.marginX, top: layout.y, width: CONTENT_WIDTH, plotHeight: 170 });
  layout.y += height + 18;

  minorHeading(layout, 'Entries by event type', 60);
  const widths = fitColumns([{ weight: 1 }, 80, 70, 70]);
  const columns: Column[] = [
    { title: 'Event type', width: widths[0] as number },
    { title: 'Entries', width: widths[1] as number, align: 'right' },
    { title: 'Share', width: widths[2] as number, align: 'right' },
    { title: 'Failed', width: widths[3] as number, align: 'right' },
  ];
  const total = Math.max(1, summary.totalEntries);
  drawTable(layout, columns, summary.byEvent.length, (r, c) => {
    const e = summary.byEvent[r];
    if (!e) return '';
    return [e.event, formatCount(e.count), formatPercent(e.count / total), formatCount(e.failures)][c] ?? '';
  }, { size: 8 });
  return at;
}

function recordEntryColumns(layout: Layout): Column[] {
  const seq = columnWidthFor(layout, '0000000', 'sans', 7.5, 'Seq');
  const time = columnWidthFor(layout, '0000-00-00 00:00:00', 'sans', 7.5);
  const resultW = columnWidthFor(layout, 'Failed', 'sans', 7.5, 'Result');
  const w = fitColumns([seq, time, { weight: 1.1 }, { weight: 0.9 }, { weight: 1.6 }, resultW]);
  return [
    { title: 'Seq', width: w[0] as number, align: 'right' },
    { title: 'Time (UTC)', width: w[1] as number },
    { title: 'Event', width: w[2] as number },
    { title: 'Actor', width: w[3] as number },
    // Mostly "this record" here, so set as text rather than as an id.
    { title: 'Target', width: w[4] as number, color: (v) => (v === THIS_RECORD ? THEME.muted : THEME.text) },
    { title: 'Result', width: w[5] as number, color: resultColour },
  ];
}

function drawRecord(layout: Layout, record: ReportRecord, number: string, columns: Column[]): { page: number; top: number } {
  const continued = (what: string) => truncate(`${number} ${record.title}`, layout.fonts.sans, 7.2, CONTENT_WIDTH - 120) + ` \u2014 ${what} (continued)`;
  const at = subHeading(layout, `${number}\u2002${record.title}`, 90);
  layout.paragraph(record.id, { font: layout.fonts.mono, size: 7.4, color: THEME.muted, lineHeight: 10, after: 6 });
  metaStrip(layout, [
    { label: 'Case', value: record.case },
    { label: 'Classification', value: record.classification },
    { label: 'Kind', value: record.kind },
    { label: 'Captured (UTC)', value: formatTime(record.capturedAt) },
  ]);

  const hashW = columnWidthFor(layout, '0'.repeat(64), 'mono', 6.2);
  minorHeading(layout, `Versions (${formatCount(record.versions.length)})`);
  if (record.versions.length === 0) {
    layout.paragraph('No versions recorded.', { size: 8.5, color: THEME.muted });
  } else {
    const w = fitColumns([52, { weight: 1 }, hashW]);
    drawTable(
      layout,
      [
        { title: 'Version', width: w[0] as number, align: 'right' },
        { title: 'Time (UTC)', width: w[1] as number },
        { title: 'Content SHA-256', width: w[2] as number, font: 'mono', size: 6.2 },
      ],
      record.versions.length,
      (r, c) => {
        const v = record.versions[r];
        if (!v) return '';
        return [String(v.version), formatTime(v.time), v.sha256 ?? '\u2014'][c] ?? '';
      },
      { continued: continued('versions') },
    );
  }

  minorHeading(layout, `Attachments (${formatCount(record.attachments.length)})`);
  if (record.attachments.length === 0) {
    layout.paragraph('No attachments.', { size: 8.5, color: THEME.muted });
  } else {
    const w = fitColumns([{ weight: 1 }, 58, hashW]);
    drawTable(
      layout,
      [
        { title: 'Name', width: w[0] as number },
        { title: 'Size', width: w[1] as number, align: 'right' },
        { title: 'SHA-256', width: w[2] as number, font: 'mono', size: 6.2 },
      ],
      record.attachments.length,
      (r, c) => {
        const a = record.attachments[r];
        if (!a) return '';
        return [a.name, formatBytes(a.size), a.sha256][c] ?? '';
      },
      { continued: continued('attachments') },
    );
  }

  minorHeading(layout, `Access history (${formatCount(record.entries.length)} ${record.entries.length === 1 ? 'entry' : 'entries'})`);
  if (record.entries.length === 0) {
    layout.paragraph('No access to this record in the scope of the report.', { size: 8.5, color: THEME.muted });
  } else {
    // A target naming the record itself ("<id>" or "<kind>:<id>") adds nothing in its own section.
    const suffix = `:${record.id}`;
    drawTable(layout, columns, record.entries.length, (r, c) => {
      const e = record.entries[r];
      if (!e) return '';
      switch (c) {
        case 0: return String(e.seq);
        case 1: return e.pruned ? DASH : formatTime(e.time);
        case 2: return e.pruned ? prunedEvent(e.pruned.retentionSeq) : e.event;
        case 3: return e.pruned ? DASH : e.actor;
        case 4: return e.target === null ? '\u2014' : e.target === record.id || e.target.endsWith(suffix) ? THIS_RECORD : e.target;
        default: return e.pruned ? DASH : result(e.success);
      }
    }, { continued: continued('access history') });
  }
  layout.y += 16;
  return at;
}

/**
 * Section 3. Vault-level entries (hundreds of unlocks, locks and searches in a long case) are
 * summarised by event type; the entries about the records are listed one by one. Every entry,
 * either way, is in events.jsonl with its proof and in the embedded entries.json.
 */
function drawEntries(layout: Layout, doc: ReportDocument): { page: number; top: number } {
  const at = sectionHeading(layout, 'Section 3', 'Audit entries');
  const listed = doc.entries.filter(isRecordEntry);
  const vaultLevel = doc.entries.length - listed.length;
  layout.paragraph(
    `This report covers ${formatCount(doc.entries.length)} audit entries, each in events.jsonl with its inclusion proof. ` +
      `The ${formatCount(vaultLevel)} vault-level entries (unlocks, locks, failed unlocks, searches, verifications, settings and ` +
      'other events not about one record) are summarised by event type in 3.1; the ' +
      `${formatCount(listed.length)} entries about the records and their attachments are listed one by one in 3.2, in log order. ` +
      'The leaf hash is SHA-256 of a zero byte followed by the entry\u2019s canonical JSON (RFC 6962, RFC 8785); the sequence ' +
      `numbers and leaf hashes of all ${formatCount(doc.entries.length)} entries are embedded in this PDF as ${ENTRIES_FILE_NAME}. ` +
      'An entry marked \u201cpruned by #R\u201d had its body removed by the retention run at entry R: its leaf hash is still in ' +
      'the signed log, its content is gone (vault-level ones are counted as \u201cpruned\u201d in 3.1).',
    { size: 8.8, after: 12 },
  );
  drawVaultEvents(layout, doc, vaultLevel);
  minorHeading(layout, `3.2  Entries about the records (${formatCount(listed.length)})`, 60);
  if (listed.length === 0) {
    layout.paragraph('No entries about records in the scope of this report.', { size: 8.5, color: THEME.muted });
    return at;
  }
  drawEntryTable(layout, listed);
  return at;
}

function drawVaultEvents(layout: Layout, doc: ReportDocument, count: number): void {
  minorHeading(layout, `3.1  Vault-level events by type (${formatCount(count)} ${count === 1 ? 'entry' : 'entries'})`, 60);
  const rows = doc.summary.vaultEvents;
  if (rows.length === 0) {
    layout.paragraph('No vault-level entries in the scope of this report.', { size: 8.5, color: THEME.muted, after: 10 });
    return;
  }
  const size = 7.6;
  const entriesW = columnWidthFor(layout, '000,000', 'sans', size, 'Entries');
  const failedW = columnWidthFor(layout, '000,000', 'sans', size, 'Failed');
  const timeW = columnWidthFor(layout, '0000-00-00 00:00:00', 'sans', size);
  const seqW = columnWidthFor(layout, '0000000 \u2013 0000000', 'sans', size);
  const w = fitColumns([{ weight: 1 }, entriesW, failedW, timeW, timeW, seqW]);
  drawTable(
    layout,
    [
      { title: 'Event type', width: w[0] as number },
      { title: 'Entries', width: w[1] as number, align: 'right' },
      { title: 'Failed', width: w[2] as number, align: 'right', color: (v) => (v === '0' ? THEME.text : THEME.fail) },
      { title: 'First (UTC)', width: w[3] as number },
      { title: 'Last (UTC)', width: w[4] as number },
      { title: 'Seq (first \u2013 last)', width: w[5] as number, align: 'right' },
    ],
    rows.length,
    (r, c) => {
      const e = rows[r];
      if (!e) return '';
      switch (c) {
        case 0: return e.event;
        case 1: return formatCount(e.count);
        case 2: return formatCount(e.failures);
        case 3: return e.firstTime ? formatTime(e.firstTime) : DASH;
        case 4: return e.lastTime ? formatTime(e.lastTime) : DASH;
        default: return e.firstSeq === e.lastSeq ? String(e.firstSeq) : `${e.firstSeq} \u2013 ${e.lastSeq}`;
      }
    },
    { size, continued: 'Vault-level events by type (continued)' },
  );
  layout.y += 10;
}

function drawEntryTable(layout: Layout, entries: readonly ReportEntry[]): void {
  const size = 7.2;
  const hashSize = 6.2;
  const seq = columnWidthFor(layout, '0000000', 'sans', size, 'Seq');
  const time = columnWidthFor(layout, '0000-00-00', 'sans', size, 'Time (UTC)');
  const resultW = columnWidthFor(layout, 'Failed', 'sans', size, 'Result');
  // The 64 hex digits of a leaf hash on two lines of 32.
  const hashW = columnWidthFor(layout, '0'.repeat(32), 'mono', hashSize);
  const w = fitColumns([seq, time, { weight: 1.1 }, { weight: 0.9 }, { weight: 1.5 }, resultW, hashW]);
  const columns: Column[] = [
    { title: 'Seq', width: w[0] as number, align: 'right' },
    { title: 'Time (UTC)', width: w[1] as number },
    { title: 'Event', width: w[2] as number },
    { title: 'Actor', width: w[3] as number },
    { title: 'Target', width: w[4] as number, font: 'mono', size: TARGET_SIZE },
    { title: 'Result', width: w[5] as number, color: resultColour },
    { title: 'Leaf hash', width: w[6] as number, font: 'mono', size: hashSize },
  ];
  drawTable(
    layout,
    columns,
    entries.length,
    (r, c) => {
      const e = entries[r];
      if (!e) return '';
      switch (c) {
        case 0: return String(e.seq);
        // Date over time: the row is two lines tall for the hash anyway.
        case 1: {
          if (e.pruned) return DASH;
          const t = formatTime(e.time);
          const space = t.indexOf(' ');
          return space > 0 ? [t.slice(0, space), t.slice(space + 1)] : t;
        }
        case 2: return e.pruned ? prunedEvent(e.pruned.retentionSeq) : e.event;
        case 3: return e.pruned ? DASH : e.actor;
        case 4: return e.target ?? '\u2014';
        case 5: return e.pruned ? DASH : result(e.success);
        // 64 hex digits as two lines of 32; anything else wraps as text.
        default: return e.leafHash.length === 64 ? [e.leafHash.slice(0, 32), e.leafHash.slice(32)] : e.leafHash;
      }
    },
    { size, minLines: 2, continued: 'Entries about the records (continued)' },
  );
}

function drawAppendix(layout: Layout, doc: ReportDocument): { page: number; top: number } {
  const at = sectionHeading(layout, 'Appendix A', 'How to verify this report');
  for (const block of doc.appendix ?? defaultVerificationAppendix()) {
    if (block.kind === 'heading') {
      layout.y += 4;
      subHeading(layout, block.text, 40, 10.5);
    } else if (block.kind === 'paragraph') {
      layout.paragraph(block.text, { size: 9.2, after: 8 });
    } else {
      codeBlock(layout, block.lines);
    }
  }
  return at;
}

function drawToc(layout: Layout, lines: TocLine[], firstPage: number): void {
  const { sans, sansBold } = layout.fonts;
  let open = -1;
  flowToc(lines, (line, top, pageOfToc) => {
    if (pageOfToc !== open) {
      layout.openPage(firstPage + pageOfToc);
      open = pageOfToc;
      if (pageOfToc === 0) {
        layout.canvas.text(PAGE.marginX, PAGE.contentTop + 26, 'Contents', sansBold, 19, THEME.ink);
        layout.canvas.fillRect(PAGE.marginX, PAGE.contentTop + 38, 36, 2, THEME.accent);
      }
    }
    const c = layout.canvas;
    const font = line.level === 0 ? sansBold : sans;
    const size = line.level === 0 ? 10 : 8.6;
    const indent = line.level === 0 ? 0 : 26;
    const numberW = line.level === 0 ? 26 : 34;
    const baseline = top + (line.level === 0 ? 14 : 9.5);
    const pageLabel = String(line.page + 1);
    const pageW = font.width(pageLabel, size);
    const right = PAGE.marginX + CONTENT_WIDTH;
    const titleX = PAGE.marginX + indent + numberW;
    const title = truncate(line.title, font, size, right - titleX - pageW - 30);
    c.text(PAGE.marginX + indent, baseline, line.number, font, size, line.level === 0 ? THEME.accent : THEME.muted);
    c.text(titleX, baseline, title, font, size, line.level === 0 ? THEME.ink : THEME.text);
    const titleEnd = titleX + font.width(title, size) + 6;
    if (right - pageW - 6 > titleEnd) c.line(titleEnd, baseline - 0.5, right - pageW - 6, baseline - 0.5, THEME.faint, 0.6, [0.6, 2.4]);
    c.text(right - pageW, baseline, pageLabel, font, size, THEME.ink);
    layout.addLink({ x: PAGE.marginX, top: top, w: CONTENT_WIDTH, h: TOC.lineHeight[line.level], targetPage: line.page });
  });
  layout.closePage();
}

/**
 * Header and footer of every page. What is the same on all pages is one form
 * XObject drawn by each page; a page adds only its "Page n of N" (a few
 * bytes, left uncompressed), which keeps thousands of pages cheap.
 */
function drawHeaderFooter(layout: Layout, doc: ReportDocument, title: string, furniture: PDFRef, fontResources: PDFDict): void {
  const { sans, sansBold } = layout.fonts;
  const total = layout.pages.length;
  const right = PAGE.marginX + CONTENT_WIDTH;
  const headerY = 40;
  const footerY = PAGE.height - 34;
  const labelSize = 7.4;
  const widestLabel = sansBold.width(`Page ${total} of ${total}`, labelSize);

  const c = new PageCanvas(PAGE.height);
  const vault = truncate(doc.cover.vaultName, sans, 7.4, CONTENT_WIDTH / 2 - 10);
  c.text(PAGE.marginX, headerY, truncate(title, sansBold, 7.4, CONTENT_WIDTH / 2 - 10), sansBold, 7.4, THEME.muted);
  c.text(right - sans.width(vault, 7.4), headerY, vault, sans, 7.4, THEME.muted);
  c.line(PAGE.marginX, headerY + 6, right, headerY + 6, THEME.rule, 0.5);
  const footerLeft = `Vault ${doc.cover.vaultId} \u00b7 generated ${formatTime(doc.cover.generatedAt)} UTC`;
  c.line(PAGE.marginX, footerY - 11, right, footerY - 11, THEME.rule, 0.5);
  c.text(PAGE.marginX, footerY, truncate(footerLeft, sans, 7, CONTENT_WIDTH - widestLabel - 20), sans, 7, THEME.faint);
  const ctx = layout.doc.context;
  ctx.assign(
    furniture,
    ctx.stream(deflateSync(Buffer.from(c.finish(), 'latin1')), {
      Type: 'XObject',
      Subtype: 'Form',
      BBox: [0, 0, PAGE.width, PAGE.height],
      Resources: fontResources,
      Filter: 'FlateDecode',
    }),
  );

  for (let i = 0; i < total; i++) {
    const page = new PageCanvas(PAGE.height);
    page.drawForm(FURNITURE);
    const label = `Page ${i + 1} of ${total}`;
    page.text(right - sansBold.width(label, labelSize), footerY, label, sansBold, labelSize, THEME.muted);
    layout.addContent(i, page.finish(), { compress: false });
  }
}

function setMetadata(pdf: PDFDocument, doc: ReportDocument, title: string): void {
  const { cover } = doc;
  pdf.setTitle(`${title} \u2014 ${cover.vaultName}`, { showInWindowTitleBar: true });
  pdf.setAuthor(cover.analystName);
  pdf.setSubject(`Chain of custody and audit trail: ${cover.scope}`);
  pdf.setKeywords(['chain of custody', 'audit log', 'Custody', `vault ${cover.vaultId}`]);
  pdf.setCreator('Custody');
  pdf.setProducer('Custody (pdf-lib)');
  const created = parseDate(cover.generatedAt);
  if (created) {
    pdf.setCreationDate(created);
    pdf.setModificationDate(created);
  }
  pdf.setLanguage('en');
}

/**
 * pdf-lib save options for report documents. No object streams: pdf-lib
 * deflates them in JavaScript, about a second for 100,000 entries, for a file
 * only some 7% smaller. addDefaultPage off: Layout appends pages behind
 * pdf-lib's page count. objectsPerTick unbounded: the default yields to the
 * event loop every 50 objects, seconds over a large report.
 */
export const SAVE_OPTIONS = {
  useObjectStreams: false,
  addDefaultPage: false,
  updateFieldAppearances: false,
  objectsPerTick: Number.POSITIVE_INFINITY,
} as const;

export async function renderReportPdf(doc: ReportDocument, options: RenderOptions = {}): Promise<Uint8Array> {
  return (await buildReportDocument(doc, options)).save(SAVE_OPTIONS);
}

/** The report as a pdf-lib document, complete but not yet saved (renderSignedReportPdf signs it before saving). */
export async function buildReportDocument(doc: ReportDocument, options: RenderOptions = {}): Promise<PDFDocument> {
  const title = doc.cover.title ?? DEFAULT_TITLE;
  // updateMetadata off: no wall-clock dates, so output depends on the document only.
  const pdf = await PDFDocument.create({ updateMetadata: false });
  const fonts: FontSet = await embedFonts(pdf, options.fontsDir);
  const fontResources = pdf.context.obj({
    Font: Object.fromEntries(Object.values(fonts).map((f) => [f.resourceName, f.pdfFont.ref])),
  });
  const furniture = pdf.context.nextRef();
  const resources: PDFRef = pdf.context.register(
    pdf.context.obj({ Font: fontResources.get(PDFName.of('Font')), XObject: { [FURNITURE]: furniture }, ProcSet: ['PDF', 'Text'] }),
  );
  const layout = new Layout(pdf, fonts, resources);
  try {
    drawCover(layout, doc, title);
    layout.closePage();

    // The contents pages come next; their number depends only on the line count.
    const toc: TocLine[] = [
      { level: 0, number: '1', title: 'Summary', page: -1 },
      { level: 0, number: '2', title: 'Records', page: -1 },
      ...doc.records.map((r, i): TocLine => ({ level: 1, number: `2.${i + 1}`, title: r.title, page: -1 })),
      { level: 0, number: '3', title: 'Audit entries', page: -1 },
      { level: 0, number: 'A', title: 'How to verify this report', page: -1 },
    ];
    const tocFirst = layout.pages.length;
    const tocPages = flowToc(toc);
    for (let i = 0; i < tocPages; i++) layout.addBlankPage();

    const outline: OutlineItem[] = [{ title: 'Contents', page: tocFirst }];
    const summaryAt = drawSummary(layout, doc);
    outline.push({ title: '1 Summary', page: summaryAt.page });

    const recordsAt = sectionHeading(layout, 'Section 2', 'Records');
    layout.paragraph(
      'For each record: its metadata, the hash of each version and attachment, and every access to it recorded in the ' +
        'audit log within the scope of this report. Times are UTC.',
      { size: 8.8, after: 14 },
    );
    const recordColumns = recordEntryColumns(layout);
    const recordItems: OutlineItem[] = doc.records.map((r, i) => {
      const at = drawRecord(layout, r, `2.${i + 1}`, recordColumns);
      return { title: `2.${i + 1} ${r.title}`, page: at.page, top: at.top };
    });
    if (doc.records.length === 0) layout.paragraph('No records are in the scope of this report.', { color: THEME.muted });
    outline.push({ title: '2 Records', page: recordsAt.page, children: recordItems });

    const entriesAt = drawEntries(layout, doc);
    outline.push({ title: '3 Audit entries', page: entriesAt.page });
    const appendixAt = drawAppendix(layout, doc);
    outline.push({ title: 'A How to verify this report', page: appendixAt.page });
    layout.closePage();

    const pages = [summaryAt.page, recordsAt.page, ...recordItems.map((r) => r.page), entriesAt.page, appendixAt.page];
    toc.forEach((line, i) => (line.page = pages[i] ?? 0));
    drawToc(layout, toc, tocFirst);
    drawHeaderFooter(layout, doc, title, furniture, fontResources);

    const pageRefs = layout.pages.map((p) => p.page.ref);
    layout.pages.forEach((p) => p.page.node.set(PDFName.of('Contents'), pdf.context.obj(p.contents)));
    layout.pages.forEach((p) => addLinks(pdf, pageRefs, p.page, p.links));
    addOutline(pdf, pageRefs, outline);
    pdf.catalog.set(PDFName.of('ViewerPreferences'), pdf.context.obj({ DisplayDocTitle: true }));
    setMetadata(pdf, doc, title);

    await embedEntriesFile(pdf, doc.entries, parseDate(doc.cover.generatedAt));
    await layout.settled();
  } catch (e) {
    // The deflating thread must not outlive a render that failed.
    layout.dispose();
    throw e;
  }
  return pdf;
}
