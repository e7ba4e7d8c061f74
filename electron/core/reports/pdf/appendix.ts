// Default wording of "How to verify this report". The export may pass its own
// blocks (naming its exact file layout); this text stays correct without them.
import type { AppendixBlock } from './model.ts';

export function defaultVerificationAppendix(): AppendixBlock[] {
  return [
    {
      kind: 'paragraph',
      text:
        'This PDF is one file of an export that also holds events.jsonl (the canonical bytes of every entry listed in ' +
        'this report, one per line), an inclusion proof for each entry, the checkpoint shown on the cover, the ' +
        'verifier keys and a signed manifest with the SHA-256 of every file. Each check below can be made on its own, ' +
        'offline; together they show that this document is unaltered since it was signed and that the entries it ' +
        'lists are exactly those committed to by the vault\u2019s audit log.',
    },
    { kind: 'heading', text: '1. The PDF signature' },
    {
      kind: 'paragraph',
      text:
        'The document carries a PAdES signature (ETSI.CAdES.detached, SHA-256) over the whole file. With poppler-utils:',
    },
    { kind: 'code', lines: ['$ pdfsig report.pdf'] },
    {
      kind: 'paragraph',
      text:
        'Expect \u201cSignature is Valid.\u201d and \u201cTotal document signed\u201d. \u201cCertificate issuer isn\u2019t ' +
        'Trusted\u201d only means that the signing certificate (the vault\u2019s own, or your organisation\u2019s) is not ' +
        'in your trust store: compare its SHA-256 fingerprint, shown on the cover, with one received through another ' +
        'channel. Any change to the file, even of a single byte, makes the signature invalid.',
    },
    { kind: 'heading', text: '2. The whole export' },
    { kind: 'code', lines: ['$ custody verify <export folder or zip>'] },
    {
      kind: 'paragraph',
      text:
        'The verifier needs no vault and no network. It checks the PDF signature; that the entries listed in this PDF ' +
        '(also embedded in it as the attachment entries.json) are exactly those in events.jsonl; every inclusion proof ' +
        'against the checkpoint; the checkpoint\u2019s signature with the verifier key; and the manifest. It names each ' +
        'problem it finds.',
    },
    {
      kind: 'paragraph',
      text:
        'An entry whose body was removed under the vault\u2019s retention policy appears in events.jsonl as a line ' +
        '{"leafHash":\u2026,"pruned":true,"retentionSeq":R,"seq":N}: its leaf hash is checked against its inclusion proof, ' +
        'and entry R, included in the same report, is the signed retention run that removed it (it names its cutoff and ' +
        'the sequence number before which no entry keeps a body).',
    },
    {
      kind: 'paragraph',
      text:
        'Without --vkey the verifier checks the export against the verifier key it carries, and prints that key and its ' +
        'fingerprint: compare them with the ones the analyst gives you through another channel (custody audit vkey on ' +
        'their vault), or pass that key with --vkey, and any other key fails verification.',
    },
    { kind: 'heading', text: '3. The manifest, with OpenSSL' },
    {
      kind: 'paragraph',
      text: 'Recompute the digest of each file and compare it with the line of the manifest that names the file:',
    },
    { kind: 'code', lines: ['$ openssl dgst -sha256 report.pdf events.jsonl'] },
    {
      kind: 'paragraph',
      text:
        'A leaf hash in section 3 is SHA-256 of a zero byte followed by the entry\u2019s canonical JSON (RFC 6962, ' +
        'RFC 8785). For the entry on line n of events.jsonl:',
    },
    { kind: 'code', lines: ["$ { printf '\\0'; sed -n 'np' events.jsonl | tr -d '\\n'; } | openssl dgst -sha256"] },
    { kind: 'heading', text: '4. The checkpoint' },
    {
      kind: 'paragraph',
      text:
        'The checkpoint on the cover (C2SP tlog-checkpoint, signed with the vault\u2019s Ed25519 device key) commits to ' +
        'the first entries of the audit log, up to its tree size, through their Merkle root. A reader who already holds ' +
        'an earlier checkpoint of this vault can check the consistency proof in the export to confirm that the log was ' +
        'only ever appended to.',
    },
  ];
}
