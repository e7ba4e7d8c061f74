// The identity that signs report PDFs: a per-vault self-signed certificate
// (RSA-3072, docs/architecture.md, "Keys and formats") kept as a PKCS#12, or an organisation's own
// PKCS#12 (RSA or ECDSA). Keys are node:crypto KeyObjects; node-forge is used
// only for what node lacks: building X.509 certificates and PKCS#12 files.
import { createHash, createPrivateKey, generateKeyPair, generateKeyPairSync, type KeyObject, randomBytes, sign, X509Certificate } from 'node:crypto';
import forge from 'node-forge';

export interface SigningIdentity {
  privateKey: KeyObject;
  keyType: 'rsa' | 'ec';
  /** The signer's certificate. */
  certificate: X509Certificate;
  /** Further certificates of the PKCS#12 (intermediates, root), embedded in each signature. */
  chain: X509Certificate[];
}

export interface SelfSignedIdentity {
  /** DER PKCS#12 holding the key and the certificate. */
  p12: Buffer;
  /** Random passphrase of the PKCS#12: store it as a secret, like any key. */
  passphrase: string;
  certificatePem: string;
}

const VALIDITY_YEARS = 5;
/** How far the vault's own certificate is back-dated, for readers whose clocks run behind. */
const BACKDATE_MS = 60_000;

/**
 * How far a certificate's notBefore may lie after the signing time and still be accepted.
 * X.509 times have whole seconds and certificates are often issued on another machine (an
 * organisation's CA), so a certificate valid "from now" can start a fraction of a second, or
 * a clock difference, after the moment a report is signed. Five minutes is the customary
 * tolerance between machines (Kerberos' and Active Directory's default): long enough for
 * unsynchronised clocks, far too short to pass off a certificate issued later as an earlier
 * one. It applies to notBefore only; an expired certificate is refused to the millisecond.
 */
export const NOT_BEFORE_CLOCK_SKEW_MS = 5 * 60_000;

/** Why the certificate cannot sign at `when` (notBefore with the skew above), or undefined if it can. */
export function certificateProblemAt(certificate: X509Certificate, when: Date): string | undefined {
  const subject = subjectName(certificate);
  if (when.getTime() + NOT_BEFORE_CLOCK_SKEW_MS < Date.parse(certificate.validFrom)) return `the signing certificate (${subject}) is not valid before ${certificate.validFrom}`;
  if (when.getTime() > Date.parse(certificate.validTo)) return `the signing certificate (${subject}) expired on ${certificate.validTo}`;
  return undefined;
}
const SUPPORTED_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);

/** Lowercase hex SHA-256 of the certificate's DER: what a reader compares out of band. */
export function certificateFingerprint(certificate: X509Certificate | string | Uint8Array): string {
  const der = certificate instanceof X509Certificate ? certificate.raw : new X509Certificate(certificate).raw;
  return createHash('sha256').update(der).digest('hex');
}

/** "CN=…, O=…" (RFC 4514 order, most specific first) from node's one-attribute-per-line form. */
export function subjectName(certificate: X509Certificate): string {
  return certificate.subject.split('\n').filter(Boolean).reverse().join(', ');
}

export interface RsaKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const RSA_BITS = 3072;

/**
 * A new RSA-3072 key pair, found on libuv's thread pool: the search for primes takes from a
 * fraction of a second to several, which an export spends on its other work meanwhile.
 */
export function rsaKeyPair(): Promise<RsaKeyPair> {
  return new Promise((resolve, reject) => generateKeyPair('rsa', { modulusLength: RSA_BITS }, (err, publicKey, privateKey) => (err ? reject(err) : resolve({ publicKey, privateKey }))));
}

/**
 * `now` is the clock the validity period starts from (injected by tests); `keys`, an RSA-3072
 * pair made beforehand (rsaKeyPair), else one is made here.
 */
export function createSelfSignedIdentity(commonName: string, organisation?: string, now: () => Date = () => new Date(), keys?: RsaKeyPair): SelfSignedIdentity {
  if (commonName.trim() === '') throw new Error('a signing certificate needs a common name');
  // node:crypto finds the primes in native code, far faster than forge.
  const pair = keys ?? generateKeyPairSync('rsa', { modulusLength: RSA_BITS });
  if (pair.privateKey.asymmetricKeyType !== 'rsa' || pair.privateKey.asymmetricKeyDetails?.modulusLength !== RSA_BITS) throw new Error(`the vault's signing certificate needs an RSA-${RSA_BITS} key`);
  const forgeKey = forge.pki.privateKeyFromPem(pair.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());

  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(pair.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  // Positive, non-zero 128-bit serial (RFC 5280 allows up to 20 octets).
  const serial = randomBytes(16);
  serial[0] = ((serial[0] as number) & 0x7f) | 0x01;
  cert.serialNumber = serial.toString('hex');
  const notBefore = new Date(now().getTime() - BACKDATE_MS);
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + VALIDITY_YEARS);
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  // Most general first, as X.500 names are ordered; UTF8String, as names need not be ASCII.
  // (forge's typings call the tag a Class; it is the universal type number.)
  const utf8 = forge.asn1.Type.UTF8 as unknown as forge.asn1.Class;
  const name: forge.pki.CertificateField[] = [
    ...(organisation ? [{ name: 'organizationName', value: organisation, valueTagClass: utf8 }] : []),
    { name: 'commonName', value: commonName, valueTagClass: utf8 },
  ];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, nonRepudiation: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  // Signed by node:crypto (forge's JavaScript RSA takes a good part of a second).
  cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption ?? '1.2.840.113549.1.1.11';
  cert.signatureOid = cert.siginfo.algorithmOid;
  const { getTBSCertificate } = forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }; // untyped in @types/node-forge
  const tbs = getTBSCertificate(cert);
  cert.tbsCertificate = tbs;
  cert.signature = sign('sha256', derOf(tbs), pair.privateKey).toString('binary');

  const passphrase = randomBytes(32).toString('base64url');
  const p12Asn1 = forge.pkcs12.toPkcs12Asn1(forgeKey, [cert], passphrase, {
    algorithm: 'aes256',
    prfAlgorithm: 'sha256',
    friendlyName: commonName,
    generateLocalKeyId: true,
  } as Parameters<typeof forge.pkcs12.toPkcs12Asn1>[3]);
  return {
    p12: Buffer.from(forge.asn1.toDer(p12Asn1).getBytes(), 'binary'),
    passphrase,
    certificatePem: forge.pki.certificateToPem(cert),
  };
}

function derOf(node: forge.asn1.Asn1): Buffer {
  return Buffer.from(forge.asn1.toDer(node).getBytes(), 'binary');
}

interface Bag {
  key?: forge.pki.rsa.PrivateKey | null;
  cert?: forge.pki.Certificate | null;
  asn1?: forge.asn1.Asn1;
}

/** Opens a PKCS#12 (the vault's own, or one an organisation issued) for signing. */
export function loadPkcs12(p12: Uint8Array, passphrase: string): SigningIdentity {
  let asn1: forge.asn1.Asn1;
  try {
    asn1 = forge.asn1.fromDer(forge.util.createBuffer(Buffer.from(p12).toString('binary')), false);
  } catch {
    throw new Error('not a PKCS#12 file (it is not DER-encoded ASN.1)');
  }
  let store: forge.pkcs12.Pkcs12Pfx;
  try {
    store = forge.pkcs12.pkcs12FromAsn1(asn1, false, passphrase);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (/invalid password|wrong password|MAC could not be verified/i.test(message)) {
      throw new Error('wrong passphrase for the PKCS#12 file');
    }
    throw new Error(`cannot read the PKCS#12 file: ${message}`);
  }

  const bagsOf = (type: string): Bag[] => (store.getBags({ bagType: type })[type] ?? []) as Bag[];
  const keyBags = [...bagsOf(forge.pki.oids.pkcs8ShroudedKeyBag ?? ''), ...bagsOf(forge.pki.oids.keyBag ?? '')];
  const certBags = bagsOf(forge.pki.oids.certBag ?? '');
  const keyBag = keyBags[0];
  if (!keyBag) throw new Error('the PKCS#12 file holds no private key');
  if (keyBags.length > 1) throw new Error('the PKCS#12 file holds several private keys; export the signing key alone');

  // forge decodes only RSA keys and certificates; anything else comes as raw ASN.1.
  const keyInfo = keyBag.key ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(keyBag.key)) : keyBag.asn1;
  if (!keyInfo) throw new Error('the PKCS#12 file holds no readable private key');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: derOf(keyInfo), format: 'der', type: 'pkcs8' });
  } catch {
    throw new Error('the private key in the PKCS#12 file is in a form Custody cannot read');
  }
  const type = privateKey.asymmetricKeyType;
  if (type === 'rsa') {
    const bits = privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < 2048) throw new Error(`the RSA key in the PKCS#12 file has ${bits} bits; at least 2048 are needed`);
  } else if (type === 'ec') {
    const curve = privateKey.asymmetricKeyDetails?.namedCurve ?? 'unknown';
    if (!SUPPORTED_CURVES.has(curve)) throw new Error(`the EC key in the PKCS#12 file uses curve ${curve}; use P-256, P-384 or P-521`);
  } else {
    throw new Error(`the key in the PKCS#12 file is ${type ?? 'of an unknown type'}; PDF signatures need an RSA or ECDSA key`);
  }

  const certificates = certBags.flatMap((bag) => {
    const node = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : bag.asn1;
    return node ? [new X509Certificate(derOf(node))] : [];
  });
  const certificate = certificates.find((c) => c.checkPrivateKey(privateKey));
  if (!certificate) throw new Error('no certificate in the PKCS#12 file matches its private key');
  return { privateKey, keyType: type, certificate, chain: certificates.filter((c) => c !== certificate) };
}
