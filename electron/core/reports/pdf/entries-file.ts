// entries.json, the machine-readable twin of the PDF's entry table: embedded
// in report.pdf from the same list the table is drawn from, so a verifier can
// check that the entries shown are exactly those of events.jsonl.
import { promisify } from 'node:util';
import { deflate } from 'node:zlib';
import {
  decodePDFRawStream,
  PDFArray,
  PDFDict,
  PDFDocument,
  PDFHexString,
  PDFName,
  PDFRawStream,
  PDFStream,
  PDFString,
} from 'pdf-lib';
import type { ReportEntry } from './model.ts';

export const ENTRIES_FILE_NAME = 'entries.json';
export const ENTRIES_FORMAT = 'custody-report-entries/v1';

export interface EmbeddedEntry {
  seq: number;
  leafHash: string;
}

export function serialiseEntries(entries: readonly ReportEntry[]): Uint8Array {
  const list = entries.map((e) => {
    assertEntry(e.seq, e.leafHash, 'report entry');
    return { seq: e.seq, leafHash: e.leafHash };
  });
  return new TextEncoder().encode(JSON.stringify({ format: ENTRIES_FORMAT, entries: list }));
}

function assertEntry(seq: unknown, leafHash: unknown, where: string): asserts seq is number {
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
    throw new Error(`${where}: seq must be a non-negative integer`);
  }
  if (typeof leafHash !== 'string' || !/^[0-9a-f]{64}$/.test(leafHash)) {
    throw new Error(`${where} ${seq}: leafHash must be 64 lowercase hex digits`);
  }
}

const deflateAsync = promisify(deflate);

/**
 * Attaches entries.json as an embedded file (document-level, listed in the
 * EmbeddedFiles name tree and in /AF). Written here rather than with
 * pdf-lib's attach(), which deflates in JavaScript: for 100,000 entries
 * node:zlib saves seconds.
 */
export async function embedEntriesFile(pdf: PDFDocument, entries: readonly ReportEntry[], date?: Date): Promise<void> {
  const json = serialiseEntries(entries);
  const ctx = pdf.context;
  const when = date ? PDFString.fromDate(date) : undefined;
  const stream = ctx.stream(await deflateAsync(json), {
    Type: 'EmbeddedFile',
    Subtype: 'application/json',
    Filter: 'FlateDecode',
    Params: { Size: json.length, ...(when ? { CreationDate: when, ModDate: when } : {}) },
  });
  const spec = ctx.register(
    ctx.obj({
      Type: 'Filespec',
      F: PDFString.of(ENTRIES_FILE_NAME),
      UF: PDFHexString.fromText(ENTRIES_FILE_NAME),
      EF: { F: ctx.register(stream) },
      Desc: PDFHexString.fromText('Sequence numbers and RFC 6962 leaf hashes of the audit entries listed in this report'),
      AFRelationship: 'Data',
    }),
  );
  pdf.catalog.set(
    PDFName.of('Names'),
    ctx.obj({ EmbeddedFiles: { Names: [PDFHexString.fromText(ENTRIES_FILE_NAME), spec] } }),
  );
  pdf.catalog.set(PDFName.of('AF'), ctx.obj([spec]));
}

function nameOf(key: unknown): string | undefined {
  return key instanceof PDFString || key instanceof PDFHexString ? key.decodeText() : undefined;
}

/** Looks `name` up in a name tree (leaf /Names arrays and /Kids). */
function findInNameTree(node: PDFDict, name: string, depth = 0): unknown {
  if (depth > 32) return undefined;
  const names = node.lookupMaybe(PDFName.of('Names'), PDFArray);
  if (names) {
    for (let i = 0; i + 1 < names.size(); i += 2) {
      if (nameOf(names.lookup(i)) === name) return names.lookup(i + 1);
    }
  }
  const kids = node.lookupMaybe(PDFName.of('Kids'), PDFArray);
  for (let i = 0; kids && i < kids.size(); i++) {
    const kid = kids.lookup(i);
    if (kid instanceof PDFDict) {
      const found = findInNameTree(kid, name, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** The bytes of a document-level embedded file, or undefined when the PDF has none by that name. */
export async function readEmbeddedFile(pdf: Uint8Array, name: string): Promise<Uint8Array | undefined> {
  let doc: PDFDocument;
  try {
    doc = await PDFDocument.load(pdf, { updateMetadata: false, parseSpeed: Number.POSITIVE_INFINITY });
  } catch (e) {
    throw new Error(`cannot read the PDF: ${e instanceof Error ? e.message : String(e)}`);
  }
  const tree = doc.catalog.lookupMaybe(PDFName.of('Names'), PDFDict)?.lookupMaybe(PDFName.of('EmbeddedFiles'), PDFDict);
  const spec = tree ? findInNameTree(tree, name) : undefined;
  if (!(spec instanceof PDFDict)) return undefined;
  const ef = spec.lookupMaybe(PDFName.of('EF'), PDFDict);
  const stream = ef?.lookupMaybe(PDFName.of('F'), PDFStream) ?? ef?.lookupMaybe(PDFName.of('UF'), PDFStream);
  if (!(stream instanceof PDFRawStream)) throw new Error(`the embedded file ${name} has no readable content`);
  return decodePDFRawStream(stream).decode();
}

export function parseEntries(bytes: Uint8Array): EmbeddedEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new Error(`${ENTRIES_FILE_NAME} in the PDF is not valid UTF-8 JSON`);
  }
  if (typeof doc !== 'object' || doc === null || (doc as { format?: unknown }).format !== ENTRIES_FORMAT) {
    throw new Error(`${ENTRIES_FILE_NAME} in the PDF is not in the ${ENTRIES_FORMAT} format`);
  }
  const list = (doc as { entries?: unknown }).entries;
  if (!Array.isArray(list)) throw new Error(`${ENTRIES_FILE_NAME} in the PDF has no entries list`);
  return list.map((item: unknown, i) => {
    const { seq, leafHash } = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    assertEntry(seq, leafHash, `${ENTRIES_FILE_NAME} item ${i}`);
    return { seq, leafHash: leafHash as string };
  });
}
