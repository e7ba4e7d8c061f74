// entries.json, the machine-readable twin of the PDF's entry table: embedded
// in report.pdf from the same list the table is drawn from, so a verifier can
// check that the entries shown are exactly those of events.jsonl.
//
// Reading it back is done for a verifier, on a file that may be hostile: the PDF is parsed
// without ever decoding a stream at parse time (pdf-lib would inflate object and
// cross-reference streams, without a bound; Custody writes neither), and entries.json is
// inflated with node:zlib under a byte limit that stops the inflation itself.
import { promisify } from 'node:util';
import { deflate, inflateSync } from 'node:zlib';
import {
  PDFArray,
  PDFDict,
  PDFDocument,
  PDFHexString,
  PDFName,
  type PDFObject,
  PDFParser,
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
  /** Retention removed the entry's body (only its leaf hash is listed). */
  pruned?: true;
}

/** The most bytes entries.json may inflate to when no tighter bound is given. */
export const DEFAULT_MAX_ENTRIES_BYTES = 256 * 1024 * 1024;

export function serialiseEntries(entries: readonly ReportEntry[]): Uint8Array {
  const list = entries.map((e) => {
    assertEntry(e.seq, e.leafHash, 'report entry');
    return e.pruned ? { seq: e.seq, leafHash: e.leafHash, pruned: true } : { seq: e.seq, leafHash: e.leafHash };
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

/**
 * pdf-lib's parser, refusing object and cross-reference streams: pdf-lib inflates those while
 * it parses, whole and without a limit, so one could be a bomb. Custody's PDFs have neither.
 */
class NoStreamDecodingParser extends PDFParser {
  refused: string | undefined;

  constructor(pdf: Uint8Array) {
    super(pdf, Number.POSITIVE_INFINITY, true);
  }

  override parseObject(): PDFObject {
    const object = super.parseObject();
    if (object instanceof PDFRawStream) {
      const type = object.dict.lookup(PDFName.of('Type'));
      if (type === PDFName.of('ObjStm') || type === PDFName.of('XRef')) {
        this.refused = `it uses ${type === PDFName.of('ObjStm') ? 'object' : 'cross-reference'} streams, which a Custody report never contains`;
        throw new Error(this.refused);
      }
    }
    return object;
  }
}

/**
 * The bytes of a document-level embedded file, or undefined when the PDF has none by that name.
 * Inflation stops at `maxBytes`, with an error naming the limit.
 */
export async function readEmbeddedFile(pdf: Uint8Array, name: string, maxBytes = DEFAULT_MAX_ENTRIES_BYTES): Promise<Uint8Array | undefined> {
  const parser = new NoStreamDecodingParser(pdf);
  let catalog: PDFDict | undefined;
  try {
    const context = await parser.parseDocument();
    catalog = context.lookupMaybe(context.trailerInfo.Root, PDFDict);
  } catch (e) {
    throw new Error(`cannot read the PDF: ${parser.refused ?? (e instanceof Error ? e.message : String(e))}`);
  }
  if (!catalog) throw new Error('cannot read the PDF: it has no document catalog');
  const tree = catalog.lookupMaybe(PDFName.of('Names'), PDFDict)?.lookupMaybe(PDFName.of('EmbeddedFiles'), PDFDict);
  const spec = tree ? findInNameTree(tree, name) : undefined;
  if (!(spec instanceof PDFDict)) return undefined;
  const ef = spec.lookupMaybe(PDFName.of('EF'), PDFDict);
  const stream = ef?.lookupMaybe(PDFName.of('F'), PDFStream) ?? ef?.lookupMaybe(PDFName.of('UF'), PDFStream);
  if (!(stream instanceof PDFRawStream)) throw new Error(`the embedded file ${name} has no readable content`);
  return boundedDecode(stream, name, maxBytes);
}

/** A stream's bytes, FlateDecode or unfiltered only, never more than `maxBytes`. */
function boundedDecode(stream: PDFRawStream, name: string, maxBytes: number): Uint8Array {
  const filter = stream.dict.lookup(PDFName.of('Filter'));
  const tooBig = `the embedded ${name} is larger than ${maxBytes.toLocaleString('en-GB')} bytes, the limit for this report`;
  if (stream.dict.has(PDFName.of('DecodeParms'))) throw new Error(`the embedded ${name} uses decode parameters, which a Custody report never does`);
  if (filter === undefined) {
    if (stream.contents.length > maxBytes) throw new Error(tooBig);
    return stream.contents;
  }
  const flate = filter === PDFName.of('FlateDecode') || (filter instanceof PDFArray && filter.size() === 1 && filter.lookup(0) === PDFName.of('FlateDecode'));
  if (!flate) throw new Error(`the embedded ${name} uses a filter other than FlateDecode`);
  try {
    // maxOutputLength stops zlib as soon as the output passes the limit: a bomb costs no more.
    return inflateSync(stream.contents, { maxOutputLength: Math.max(1, maxBytes) });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) throw new Error(tooBig);
    throw new Error(`the embedded ${name} does not inflate: ${(e as Error).message}`);
  }
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
    const { seq, leafHash, pruned } = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    assertEntry(seq, leafHash, `${ENTRIES_FILE_NAME} item ${i}`);
    if (pruned !== undefined && pruned !== true) throw new Error(`${ENTRIES_FILE_NAME} item ${i}: pruned must be true when present`);
    return pruned ? { seq, leafHash: leafHash as string, pruned } : { seq, leafHash: leafHash as string };
  });
}
