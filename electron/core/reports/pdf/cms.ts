// CMS SignedData (RFC 5652) for a PAdES baseline B-B signature (ETSI EN
// 319 142-1): detached, SHA-256, signed attributes content-type,
// message-digest and ESS signing-certificate-v2 (RFC 5035), and no
// signing-time attribute (PAdES takes the time from the signature
// dictionary's /M). node-forge's PKCS#7 signer cannot add that attribute nor
// sign with ECDSA, so the structure is assembled with forge's ASN.1 encoder
// and signed with node:crypto.
import { createHash, sign } from 'node:crypto';
import forge from 'node-forge';
import type { SigningIdentity } from './certificate.ts';

const { asn1 } = forge;
const { Class, Type } = asn1;

export const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRSA: '1.2.840.113549.1.1.11',
  sha384WithRSA: '1.2.840.113549.1.1.12',
  sha512WithRSA: '1.2.840.113549.1.1.13',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
} as const;

type Node = forge.asn1.Asn1;

const seq = (items: Node[]): Node => asn1.create(Class.UNIVERSAL, Type.SEQUENCE, true, items);
const set = (items: Node[]): Node => asn1.create(Class.UNIVERSAL, Type.SET, true, items);
const oid = (id: string): Node => asn1.create(Class.UNIVERSAL, Type.OID, false, asn1.oidToDer(id).getBytes());
const int = (n: number): Node => asn1.create(Class.UNIVERSAL, Type.INTEGER, false, asn1.integerToDer(n).getBytes());
const octets = (bytes: Uint8Array): Node => asn1.create(Class.UNIVERSAL, Type.OCTETSTRING, false, Buffer.from(bytes).toString('binary'));
const nullNode = (): Node => asn1.create(Class.UNIVERSAL, Type.NULL, false, '');
const context = (tag: number, items: Node[]): Node => asn1.create(Class.CONTEXT_SPECIFIC, tag, true, items);

export const toDer = (node: Node): Buffer => Buffer.from(asn1.toDer(node).getBytes(), 'binary');
// forge accepts an options object here (its typings only know the boolean form).
// parseAllBytes off: a PDF's /Contents is the DER followed by zero padding.
const parseDer = asn1.fromDer as unknown as (
  bytes: forge.util.ByteBuffer,
  options: { strict: boolean; parseAllBytes: boolean; decodeBitStrings: boolean },
) => Node;
export const fromDer = (bytes: Uint8Array): Node =>
  parseDer(forge.util.createBuffer(Buffer.from(bytes).toString('binary')), { strict: true, parseAllBytes: false, decodeBitStrings: false });

/** The issuer Name and serialNumber nodes of a certificate (RFC 5280 TBSCertificate). */
export function issuerAndSerial(certDer: Uint8Array): { issuer: Node; serial: Node } {
  const tbs = (fromDer(certDer).value as Node[])[0];
  const fields = (tbs?.value ?? []) as Node[];
  // The version field is an explicit [0]; version 1 certificates omit it.
  const offset = fields[0]?.tagClass === Class.CONTEXT_SPECIFIC ? 1 : 0;
  const serial = fields[offset];
  const issuer = fields[offset + 2];
  if (!serial || !issuer) throw new Error('the signing certificate is malformed');
  return { issuer, serial };
}

function attribute(type: string, value: Node): Node {
  return seq([oid(type), set([value])]);
}

/** DER SET OF: members sorted by their encodings (X.690 11.6), as the signature covers the DER. */
function derSetOf(members: Node[]): Node {
  const encoded = members.map((m) => ({ m, der: toDer(m) }));
  encoded.sort((a, b) => Buffer.compare(a.der, b.der));
  return set(encoded.map((e) => e.m));
}

/**
 * A detached CMS SignedData over content whose SHA-256 is `contentDigest`,
 * as PAdES puts in a signature dictionary's /Contents.
 */
export function buildCadesSignature(contentDigest: Uint8Array, identity: SigningIdentity): Buffer {
  const certDer = identity.certificate.raw;
  const { issuer, serial } = issuerAndSerial(certDer);
  const sha256 = seq([oid(OID.sha256)]); // parameters absent (RFC 5754)

  const essCertIdV2 = seq([
    // hashAlgorithm is DEFAULT sha256, so omitted.
    octets(createHash('sha256').update(certDer).digest()),
    seq([seq([context(4, [issuer])]), serial]),
  ]);
  const signedAttrs = derSetOf([
    attribute(OID.contentType, oid(OID.data)),
    attribute(OID.messageDigest, octets(contentDigest)),
    attribute(OID.signingCertificateV2, seq([seq([essCertIdV2])])),
  ]);
  // The signature covers the attributes' DER with the universal SET tag (RFC 5652 5.4).
  const signature = sign('sha256', toDer(signedAttrs), identity.privateKey);
  const signatureAlgorithm = identity.keyType === 'rsa' ? seq([oid(OID.sha256WithRSA), nullNode()]) : seq([oid(OID.ecdsaWithSha256)]);

  const signerInfo = seq([
    int(1),
    seq([issuer, serial]),
    sha256,
    asn1.create(Class.CONTEXT_SPECIFIC, 0, true, signedAttrs.value as Node[]),
    signatureAlgorithm,
    octets(signature),
  ]);
  const certificates = [identity.certificate, ...identity.chain].map((c) => fromDer(c.raw));
  const signedData = seq([
    int(1),
    set([sha256]),
    seq([oid(OID.data)]),
    asn1.create(Class.CONTEXT_SPECIFIC, 0, true, certificates),
    set([signerInfo]),
  ]);
  return toDer(seq([oid(OID.signedData), context(0, [signedData])]));
}
