// Checks a report's PDF signature without poppler, a vault or a network, for
// `custody verify`: that /ByteRange covers the whole file but the signature
// value, that the CMS messageDigest is the hash of those bytes, that the
// signature over the signed attributes verifies with the embedded
// certificate, and that the ESS signing-certificate-v2 names that
// certificate. Trust in the certificate itself is the reader's decision: its
// SHA-256 is returned for comparison with a fingerprint received out of band.
import { createHash, verify as verifySignature, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { certificateFingerprint, NOT_BEFORE_CLOCK_SKEW_MS, subjectName } from './certificate.ts';
import { fromDer, issuerAndSerial, OID, toDer } from './cms.ts';
import { ENTRIES_FILE_NAME, type EmbeddedEntry, parseEntries, readEmbeddedFile } from './entries-file.ts';

export interface PdfSignatureVerification {
  /**
   * The signature verifies over the bytes it names and every check of the
   * CMS passed. A report is intact only when `valid && coversWholeFile`
   * (problems then is empty).
   */
  valid: boolean;
  /** /ByteRange spans the whole file except the signature value: nothing was appended or left out. */
  coversWholeFile: boolean;
  signer: { subject: string; certificateSha256: string };
  /** ISO 8601; from the signed attributes if present, else the signature dictionary's /M. */
  signingTime?: string;
  subFilter?: string;
  problems: string[];
}

type Node = forge.asn1.Asn1;
const { Class, Type } = forge.asn1;

const DIGESTS: Record<string, string> = { [OID.sha256]: 'sha256', [OID.sha384]: 'sha384', [OID.sha512]: 'sha512' };
// Signature algorithms and the digest they imply (undefined: the signer's digestAlgorithm).
const SIGNATURE_ALGORITHMS: Record<string, { key: 'rsa' | 'ec'; digest?: string }> = {
  [OID.rsaEncryption]: { key: 'rsa' },
  [OID.sha256WithRSA]: { key: 'rsa', digest: 'sha256' },
  [OID.sha384WithRSA]: { key: 'rsa', digest: 'sha384' },
  [OID.sha512WithRSA]: { key: 'rsa', digest: 'sha512' },
  [OID.ecdsaWithSha256]: { key: 'ec', digest: 'sha256' },
  [OID.ecdsaWithSha384]: { key: 'ec', digest: 'sha384' },
  [OID.ecdsaWithSha512]: { key: 'ec', digest: 'sha512' },
};

const children = (node: Node | undefined): Node[] => (Array.isArray(node?.value) ? (node.value as Node[]) : []);
const oidOf = (node: Node | undefined): string | undefined =>
  node && node.tagClass === Class.UNIVERSAL && node.type === Type.OID && typeof node.value === 'string' ? forge.asn1.derToOid(node.value) : undefined;
const bytesOf = (node: Node | undefined): Buffer | undefined =>
  node && typeof node.value === 'string' ? Buffer.from(node.value, 'binary') : undefined;

interface SignatureLocation {
  byteRange: [number, number, number, number];
  /** The signature dictionary's text, for /M and /SubFilter. */
  dictionary: string;
}

/** Every `/ByteRange [a b c d]` in the file, with the text of the object around it. */
function findSignatures(file: Buffer): SignatureLocation[] {
  const found: SignatureLocation[] = [];
  for (let at = file.indexOf('/ByteRange'); at !== -1; at = file.indexOf('/ByteRange', at + 10)) {
    const head = file.subarray(at, at + 120).toString('latin1');
    const m = /^\/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]/.exec(head);
    if (!m) continue;
    const objStart = Math.max(0, file.lastIndexOf('obj', at));
    const contentsEnd = Number(m[3]);
    const objEnd = file.indexOf('endobj', Math.max(at, Math.min(contentsEnd, file.length)));
    const before = file.subarray(objStart, at).toString('latin1');
    const after = file.subarray(Math.max(at, Math.min(contentsEnd, file.length)), objEnd === -1 ? at + 4096 : objEnd).toString('latin1');
    found.push({ byteRange: [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])], dictionary: `${before}${head}${after}` });
  }
  return found;
}

/** D:YYYYMMDDHHmmSS with an optional Z or ±HH'mm' offset, as ISO 8601 UTC. */
export function parsePdfDate(text: string): string | undefined {
  const m = /^D:(\d{4})(\d\d)?(\d\d)?(\d\d)?(\d\d)?(\d\d)?(?:(Z)|([+-])(\d\d)'?(\d\d)?'?)?/.exec(text);
  if (!m) return undefined;
  const [, y, mo = '01', d = '01', h = '00', mi = '00', s = '00', , sign, oh = '00', om = '00'] = m;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (sign) ms -= (sign === '+' ? 1 : -1) * (Number(oh) * 60 + Number(om)) * 60_000;
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** A signature value (hex, so twice its DER size) beyond this is refused unread: a hostile file could make it the whole file. */
export const MAX_SIGNATURE_HEX = 2 * 1024 * 1024;

function decodeHex(hex: string): Buffer | undefined {
  const clean = hex.replace(/\s+/g, '');
  return /^[0-9a-fA-F]*$/.test(clean) ? Buffer.from(clean.length % 2 === 0 ? clean : `${clean}0`, 'hex') : undefined;
}

export function verifyPdfSignature(pdf: Uint8Array): PdfSignatureVerification {
  const file = Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength);
  // What is wrong with what the signature covers, and with the signature itself.
  const coverage: string[] = [];
  const problems: string[] = [];
  const result: PdfSignatureVerification = {
    valid: false,
    coversWholeFile: false,
    signer: { subject: '', certificateSha256: '' },
    problems: [],
  };
  const done = (): PdfSignatureVerification => {
    result.problems = [...coverage, ...problems];
    return result;
  };

  const signatures = findSignatures(file);
  const location = signatures[signatures.length - 1];
  if (!location) {
    problems.push('the PDF has no signature (no /ByteRange found)');
    return done();
  }
  if (signatures.length > 1) problems.push(`the PDF has ${signatures.length} signatures; a report carries exactly one`);

  const subFilter = /\/SubFilter\s*\/([^\s/<>[\]()]+)/.exec(location.dictionary)?.[1];
  if (subFilter) result.subFilter = subFilter;
  const claimedTime = /\/M\s*\((D:[^)]*)\)/.exec(location.dictionary)?.[1];
  const dictionaryTime = claimedTime ? parsePdfDate(claimedTime) : undefined;
  if (dictionaryTime) result.signingTime = dictionaryTime;

  // The byte range: [0, start of /Contents value) and (its end, end of file].
  const [a, b, c, d] = location.byteRange;
  const gapIsContents =
    b < c &&
    c <= file.length &&
    file[b] === 0x3c /* < */ &&
    file[c - 1] === 0x3e /* > */ &&
    /\/Contents\s*$/.test(file.subarray(Math.max(0, b - 32), b).toString('latin1'));
  if (a !== 0) coverage.push(`the signed range starts at byte ${a}, not at the start of the file`);
  if (!gapIsContents) coverage.push('the bytes left out of the signature are not exactly the signature value (/Contents)');
  if (c + d < file.length) {
    coverage.push(`${file.length - (c + d)} bytes after the signed range are not covered by the signature (appended after signing)`);
  } else if (c + d > file.length) {
    coverage.push(`the signed range ends at byte ${c + d} but the file has only ${file.length} bytes (truncated)`);
  }
  result.coversWholeFile = a === 0 && gapIsContents && c + d === file.length;
  if (!gapIsContents || c + d > file.length) return done();

  if (c - b - 2 > MAX_SIGNATURE_HEX) {
    problems.push(`the signature value (/Contents) is larger than ${MAX_SIGNATURE_HEX / 2 / 1024 / 1024} MiB, the limit for a report's signature`);
    return done();
  }
  const cms = decodeHex(file.subarray(b + 1, c - 1).toString('latin1'));
  if (!cms) {
    problems.push('the signature value (/Contents) is not a hex string');
    return done();
  }
  let signedData: Node[];
  try {
    const contentInfo = fromDer(cms);
    if (oidOf(children(contentInfo)[0]) !== OID.signedData) throw new Error('not SignedData');
    signedData = children(children(children(contentInfo)[1])[0]);
  } catch {
    problems.push('the signature value is not a CMS SignedData structure');
    return done();
  }

  // SignedData: version, digestAlgorithms, encapContentInfo, [0] certificates, [1] crls, signerInfos.
  const encap = signedData[2];
  if (children(encap).length > 1) problems.push('the CMS signature is not detached: it carries its own content');
  const certificates = signedData
    .filter((n) => n.tagClass === Class.CONTEXT_SPECIFIC && n.type === 0)
    .flatMap((n) => children(n))
    .flatMap((n) => {
      try {
        return [new X509Certificate(toDer(n))];
      } catch {
        return [];
      }
    });
  const signerInfos = children(signedData[signedData.length - 1]);
  if (signerInfos.length !== 1) {
    problems.push(`the CMS structure has ${signerInfos.length} signers; exactly one is expected`);
    return done();
  }
  const [, sid, digestAlgorithm, signedAttrs, signatureAlgorithm, signatureValue] = children(signerInfos[0]);

  // The signer's certificate, by issuer and serial number.
  const sidDer = sid && sid.tagClass === Class.UNIVERSAL ? children(sid).map((n) => toDer(n)) : [];
  const certificate = certificates.find((cert) => {
    const { issuer, serial } = issuerAndSerial(cert.raw);
    return sidDer.length === 2 && toDer(issuer).equals(sidDer[0] as Buffer) && toDer(serial).equals(sidDer[1] as Buffer);
  });
  if (!certificate) {
    problems.push('the signer\u2019s certificate is not in the signature');
    return done();
  }
  result.signer = { subject: subjectName(certificate), certificateSha256: certificateFingerprint(certificate) };

  const digest = DIGESTS[oidOf(children(digestAlgorithm)[0]) ?? ''];
  if (!digest) {
    problems.push('the signature uses an unsupported digest algorithm');
    return done();
  }
  if (!signedAttrs || signedAttrs.tagClass !== Class.CONTEXT_SPECIFIC || signedAttrs.type !== 0) {
    problems.push('the signature has no signed attributes (PAdES requires them)');
    return done();
  }

  const attributes = new Map<string, Node | undefined>();
  for (const attr of children(signedAttrs)) {
    const [type, values] = children(attr);
    const id = oidOf(type);
    if (id) attributes.set(id, children(values)[0]);
  }
  const hash = createHash(digest).update(file.subarray(a, a + b)).update(file.subarray(c, c + d)).digest();
  const messageDigest = bytesOf(attributes.get(OID.messageDigest));
  if (!messageDigest) problems.push('the signed attributes have no message digest');
  else if (!messageDigest.equals(hash)) {
    problems.push(`message digest mismatch: the ${digest.toUpperCase()} of the signed bytes is ${hash.toString('hex')}, the signature says ${messageDigest.toString('hex')} (the file was changed after signing)`);
  }
  if (oidOf(attributes.get(OID.contentType)) !== OID.data) problems.push('the signed content type is not "data"');

  const essCert = attributes.get(OID.signingCertificateV2);
  if (essCert) {
    // SigningCertificateV2 { certs SEQUENCE OF ESSCertIDv2 { [hashAlgorithm], certHash, [issuerSerial] } }
    const first = children(children(essCert)[0])[0];
    const fields = children(first);
    const hasAlgorithm = fields[0]?.type === Type.SEQUENCE;
    const certDigest = hasAlgorithm ? DIGESTS[oidOf(children(fields[0])[0]) ?? ''] : 'sha256';
    const certHash = bytesOf(fields[hasAlgorithm ? 1 : 0]);
    if (!certDigest || !certHash || !certHash.equals(createHash(certDigest).update(certificate.raw).digest())) {
      problems.push('the signing-certificate attribute does not name the embedded certificate');
    }
  } else if (result.subFilter === 'ETSI.CAdES.detached') {
    problems.push('the signature lacks the signing-certificate-v2 attribute that PAdES requires');
  }

  const signedTime = attributes.get(OID.signingTime);
  if (signedTime && typeof signedTime.value === 'string') {
    try {
      const t = signedTime.type === Type.UTCTIME ? forge.asn1.utcTimeToDate(signedTime.value) : forge.asn1.generalizedTimeToDate(signedTime.value);
      result.signingTime = t.toISOString();
    } catch {
      problems.push('the signed signing-time attribute is malformed');
    }
  }

  const algorithm = SIGNATURE_ALGORITHMS[oidOf(children(signatureAlgorithm)[0]) ?? ''];
  const signature = bytesOf(signatureValue);
  if (!algorithm || !signature) {
    problems.push('the signature uses an unsupported signature algorithm');
    return done();
  }
  if (certificate.publicKey.asymmetricKeyType !== algorithm.key) {
    problems.push('the signature algorithm does not match the certificate\u2019s key');
    return done();
  }
  // The signature covers the attributes' DER with the SET tag, not [0] (RFC 5652 5.4).
  const attrsForSignature = forge.asn1.create(Class.UNIVERSAL, Type.SET, true, children(signedAttrs));
  const cryptoValid = verifySignature(algorithm.digest ?? digest, toDer(attrsForSignature), certificate.publicKey, signature);
  if (!cryptoValid) problems.push('the signature does not verify with the signer\u2019s certificate');

  if (result.signingTime) {
    const t = Date.parse(result.signingTime);
    // The same notBefore tolerance as signing (certificate.ts), or Custody would refuse its own reports.
    if (t + NOT_BEFORE_CLOCK_SKEW_MS < Date.parse(certificate.validFrom) || t > Date.parse(certificate.validTo)) {
      problems.push(`the signer\u2019s certificate was not valid at the signing time ${result.signingTime}`);
    }
  }

  // Coverage problems alone leave the signature itself valid, as pdfsig reports it.
  result.valid = cryptoValid && problems.length === 0;
  return done();
}

/**
 * The entries listed in the report (seq and leaf hash), from its embedded entries.json,
 * inflated to at most `maxBytes` (a verifier passes a bound derived from events.jsonl).
 */
export async function readEmbeddedEntries(pdf: Uint8Array, maxBytes?: number): Promise<EmbeddedEntry[]> {
  const bytes = await readEmbeddedFile(pdf, ENTRIES_FILE_NAME, maxBytes);
  if (!bytes) throw new Error(`the PDF has no embedded ${ENTRIES_FILE_NAME}`);
  return parseEntries(bytes);
}
