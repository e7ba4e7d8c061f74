// report.pdf of a signed audit report (docs/reports.md): the document
// model, rendering, PAdES signing with a per-vault or organisation identity,
// and the offline checks `custody verify` makes of the PDF.
export type { AppendixBlock, ReportCover, ReportDocument, ReportEntry, ReportRecord, ReportRecordEntry, ReportSummary } from './model.ts';
export { summariseEntries } from './summary.ts';
export { defaultVerificationAppendix } from './appendix.ts';
export { renderReportPdf, type RenderOptions } from './render.ts';
export {
  certificateFingerprint,
  createSelfSignedIdentity,
  loadPkcs12,
  subjectName,
  type SelfSignedIdentity,
  type SigningIdentity,
} from './certificate.ts';
export { renderSignedReportPdf, signPdf, type SignatureInfo } from './sign.ts';
export { readEmbeddedEntries, verifyPdfSignature, type PdfSignatureVerification } from './verify.ts';
export { ENTRIES_FILE_NAME, ENTRIES_FORMAT, type EmbeddedEntry } from './entries-file.ts';
