// The document model of report.pdf: everything the PDF shows, already
// decrypted and prepared by the report export. Plain data (JSON-serialisable)
// so an export can be snapshotted, diffed and rendered again byte for byte.
// Times are ISO 8601 strings; tables show them in UTC.

export interface ReportDocument {
  cover: ReportCover;
  summary: ReportSummary;
  records: ReportRecord[];
  /** Every entry of the report in log order: the same list as events.jsonl. */
  entries: ReportEntry[];
  /** "How to verify this report"; defaultVerificationAppendix() when absent. */
  appendix?: AppendixBlock[];
}

export interface ReportCover {
  /** Defaults to "Chain-of-Custody Audit Report". */
  title?: string;
  vaultId: string;
  /** The vault's name or label as the analyst knows it. */
  vaultName: string;
  analystName: string;
  deviceId: string;
  /** What the report covers, e.g. "Case 2026-041, 12 records". */
  scope: string;
  /** The period of the included entries, when the export was limited to one. */
  timeRange?: { from: string; to: string };
  purpose: string;
  recipient: string;
  /** When the report was generated (ISO 8601); also the PDF's creation date. */
  generatedAt: string;
  /** The signed tlog checkpoint (C2SP signed-note text) the report is anchored to. */
  checkpoint: string;
  /** The certificate that will sign the PDF, so a reader can compare its fingerprint. */
  signer?: { subject: string; certificateSha256: string };
}

export interface ReportSummary {
  totalEntries: number;
  totalRecords: number;
  totalAttachments: number;
  successCount: number;
  failureCount: number;
  /** successCount / totalEntries, 0..1 (1 when there are no entries). */
  successRate: number;
  firstEntryTime?: string;
  lastEntryTime?: string;
  /** Entries and failures per event type, most frequent first. */
  byEvent: { event: string; count: number; failures: number }[];
  /** Entries per UTC day (YYYY-MM-DD, ascending) and event type: the activity chart. */
  byDay: { day: string; total: number; byEvent: Record<string, number> }[];
  /**
   * The vault-level entries (whose target is not a record or an attachment: unlocks, locks,
   * failed unlocks, searches, verifications, settings, ...) by event type, most frequent first.
   * The PDF shows this table instead of listing them one by one; events.jsonl, the proofs and
   * the embedded entries.json still hold every one.
   */
  vaultEvents: VaultEventSummary[];
}

export interface VaultEventSummary {
  /** The event type; "pruned" for entries whose body retention removed. */
  event: string;
  count: number;
  failures: number;
  firstSeq: number;
  lastSeq: number;
  /** Absent when every entry of the type was pruned (their times went with their bodies). */
  firstTime?: string;
  lastTime?: string;
}

export interface ReportRecord {
  id: string;
  title: string;
  case: string;
  classification: string;
  kind: string;
  capturedAt: string;
  versions: { version: number; time: string; /** SHA-256 hex of this version's content, if known. */ sha256?: string }[];
  attachments: { name: string; size: number; sha256: string }[];
  /** The accesses to this record, in log order. */
  entries: ReportRecordEntry[];
}

export interface ReportRecordEntry {
  seq: number;
  time: string;
  event: string;
  actor: string;
  success: boolean;
  target: string | null;
  /**
   * Retention removed the entry's body: only its leaf hash is left (time, event and actor are
   * not shown); retentionSeq is the retention.run entry that removed it.
   */
  pruned?: { retentionSeq: number };
}

export interface ReportEntry extends ReportRecordEntry {
  /** RFC 6962 leaf hash, lowercase hex: SHA-256(0x00 || canonical entry bytes). */
  leafHash: string;
}

/** The appendix is a list of typed blocks so the export can supply its own wording. */
export type AppendixBlock =
  | { kind: 'heading'; text: string }
  | { kind: 'paragraph'; text: string }
  /** Monospaced, one command or output line per array item. */
  | { kind: 'code'; lines: string[] };
