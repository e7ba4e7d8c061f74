// Attachment encryption: C2SP chunked-encryption v1 (https://c2sp.org/chunked-encryption)
// instantiated as Cobblestone-256: HKDF-Expand SHA-512, AEAD_AES_256_GCM, 16 KiB chunks.
//
//   ciphertext = salt(24) || commitment(32) || chunk_0 || ... || chunk_n
//   key(32) || base nonce(12) || commitment(32)
//       = HKDF-Expand(input key, "c2sp.org/chunked-encryption@v1+AEAD_AES_256_GCM" || 0x00 || salt || context)
//   chunk_i = AES-256-GCM(key, base nonce XOR i, plaintext_i, no AAD)
//
// Every chunk but the last holds exactly 16 KiB of plaintext; the last is always shorter
// (possibly empty), which is what makes truncation at a chunk boundary detectable.
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { CustodyError } from '../../shared/errors.ts';
import { keyMaterial } from './keys.ts';

const CHUNK_SIZE = 16 * 1024;
const TAG_SIZE = 16;
const SEALED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE;
const SALT_SIZE = 24;
const COMMITMENT_SIZE = 32;
const KEY_SIZE = 32;
const NONCE_SIZE = 12;
const CHUNKED_HEADER_SIZE = SALT_SIZE + COMMITMENT_SIZE;
// The spec caps a message at 2^38 chunks (4 PiB).
const MAX_CHUNKS = 2 ** 38;
const INFO_PREFIX = Buffer.from('c2sp.org/chunked-encryption@v1+AEAD_AES_256_GCM\0', 'latin1');

/** A ciphertext that must not be trusted: truncated, modified, reordered, extended, or for another key/context. */
export class ChunkedDecryptionError extends CustodyError {
  constructor(message: string) {
    super('TAMPERED', message);
  }
}

/** Ciphertext length for a plaintext of `plaintextSize` bytes (56-byte header, 16-byte tag per chunk). */
export function chunkedCiphertextSize(plaintextSize: number): number {
  return CHUNKED_HEADER_SIZE + plaintextSize + (Math.floor(plaintextSize / CHUNK_SIZE) + 1) * TAG_SIZE;
}

// RFC 5869 section 2.3 on its own: the spec uses Expand without Extract, which node's
// hkdf() does not offer, and @noble/hashes refuses a PRK shorter than the hash output.
export function hkdfExpandSha512(prk: Uint8Array, info: Uint8Array, length: number): Buffer {
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let i = 1, produced = 0; produced < length; i++, produced += previous.length) {
    previous = createHmac('sha512', prk).update(previous).update(info).update(Uint8Array.of(i)).digest();
    blocks.push(previous);
  }
  const out = Buffer.concat(blocks).subarray(0, length);
  for (const b of blocks) b.fill(0);
  return out;
}

interface MessageKeys {
  /** The whole derived output (key, base nonce, commitment): what wipe() zeroes. */
  material: Buffer;
  key: Buffer;
  baseNonce: Buffer;
  commitment: Buffer;
}

function deriveMessageKeys(inputKey: Uint8Array, salt: Uint8Array, context: Uint8Array): MessageKeys {
  if (inputKey.length !== KEY_SIZE) throw new RangeError(`attachment key must be ${KEY_SIZE} bytes`);
  const okm = keyMaterial(hkdfExpandSha512(inputKey, Buffer.concat([INFO_PREFIX, salt, context]), KEY_SIZE + NONCE_SIZE + COMMITMENT_SIZE));
  return {
    material: okm,
    key: okm.subarray(0, KEY_SIZE),
    baseNonce: okm.subarray(KEY_SIZE, KEY_SIZE + NONCE_SIZE),
    commitment: okm.subarray(KEY_SIZE + NONCE_SIZE),
  };
}

/** Base nonce XOR the chunk counter as a big-endian integer (the counter fits in the last 5 bytes). */
function chunkNonce(baseNonce: Buffer, counter: number, out: Buffer): Buffer {
  if (counter >= MAX_CHUNKS) throw new RangeError('attachment exceeds the 2^38-chunk limit of chunked encryption');
  baseNonce.copy(out);
  out[7] = (out[7] ?? 0) ^ Math.floor(counter / 2 ** 32);
  out.writeUInt32BE((out.readUInt32BE(8) ^ counter) >>> 0, 8);
  return out;
}

/**
 * Push-style encryptor. Full chunks are sealed straight from the caller's buffer (no copy);
 * only the tail of an input that does not end on a chunk boundary is staged.
 */
class ChunkSealer {
  private readonly keys: MessageKeys;
  private readonly header: Buffer;
  private readonly nonce = Buffer.alloc(NONCE_SIZE);
  private readonly staged = Buffer.allocUnsafe(CHUNK_SIZE);
  private stagedLength = 0;
  private counter = 0;
  private headerSent = false;

  constructor(inputKey: Uint8Array, context: Uint8Array, salt: Uint8Array) {
    if (salt.length !== SALT_SIZE) throw new RangeError(`salt must be ${SALT_SIZE} bytes`);
    this.keys = deriveMessageKeys(inputKey, salt, context);
    this.header = Buffer.concat([salt, this.keys.commitment]);
  }

  write(data: Uint8Array, out: Buffer[]): void {
    this.sendHeader(out);
    let offset = 0;
    if (this.stagedLength > 0) {
      const n = Math.min(CHUNK_SIZE - this.stagedLength, data.length);
      this.staged.set(data.subarray(0, n), this.stagedLength);
      this.stagedLength += n;
      offset = n;
      if (this.stagedLength < CHUNK_SIZE) return;
      this.seal(this.staged, out);
      this.stagedLength = 0;
    }
    // A chunk is sealed as soon as it is full: the final chunk is then always shorter.
    for (; data.length - offset >= CHUNK_SIZE; offset += CHUNK_SIZE) {
      this.seal(data.subarray(offset, offset + CHUNK_SIZE), out);
    }
    this.staged.set(data.subarray(offset), 0);
    this.stagedLength = data.length - offset;
  }

  final(out: Buffer[]): void {
    this.sendHeader(out);
    this.seal(this.staged.subarray(0, this.stagedLength), out);
    this.stagedLength = 0;
    this.wipe();
  }

  /** Zeroes the derived keys and staged plaintext: final() does it, and so must a path that stops early. */
  wipe(): void {
    this.keys.material.fill(0);
    this.staged.fill(0);
    this.stagedLength = 0;
  }

  private sendHeader(out: Buffer[]): void {
    if (this.headerSent) return;
    this.headerSent = true;
    out.push(this.header);
  }

  private seal(plaintext: Uint8Array, out: Buffer[]): void {
    const cipher = createCipheriv('aes-256-gcm', this.keys.key, chunkNonce(this.keys.baseNonce, this.counter++, this.nonce));
    const ciphertext = cipher.update(plaintext);
    if (ciphertext.length > 0) out.push(ciphertext);
    cipher.final();
    out.push(cipher.getAuthTag());
  }
}

/**
 * Push-style decryptor. A full 16 KiB + tag chunk is never the last one (the last is always
 * shorter), so it is opened as soon as it is complete; a shorter remainder is held until the
 * end of input decides it is the final chunk. Plaintext is emitted only after its chunk
 * authenticated.
 */
class ChunkOpener {
  private readonly inputKey: Uint8Array;
  private readonly context: Uint8Array;
  private keys: MessageKeys | undefined;
  private readonly header = Buffer.allocUnsafe(CHUNKED_HEADER_SIZE);
  private headerLength = 0;
  private readonly nonce = Buffer.alloc(NONCE_SIZE);
  private readonly staged = Buffer.allocUnsafe(SEALED_CHUNK_SIZE);
  private stagedLength = 0;
  private counter = 0;

  constructor(inputKey: Uint8Array, context: Uint8Array) {
    if (inputKey.length !== KEY_SIZE) throw new RangeError(`attachment key must be ${KEY_SIZE} bytes`);
    this.inputKey = Uint8Array.from(inputKey);
    this.context = Uint8Array.from(context);
  }

  write(data: Uint8Array, out: Buffer[]): void {
    let offset = 0;
    if (this.keys === undefined) {
      const n = Math.min(CHUNKED_HEADER_SIZE - this.headerLength, data.length);
      this.header.set(data.subarray(0, n), this.headerLength);
      this.headerLength += n;
      offset = n;
      if (this.headerLength < CHUNKED_HEADER_SIZE) return;
      this.keys = this.checkCommitment();
    }
    if (this.stagedLength > 0) {
      const n = Math.min(SEALED_CHUNK_SIZE - this.stagedLength, data.length - offset);
      this.staged.set(data.subarray(offset, offset + n), this.stagedLength);
      this.stagedLength += n;
      offset += n;
      if (this.stagedLength < SEALED_CHUNK_SIZE) return;
      this.open(this.keys, this.staged, out);
      this.stagedLength = 0;
    }
    for (; data.length - offset >= SEALED_CHUNK_SIZE; offset += SEALED_CHUNK_SIZE) {
      this.open(this.keys, data.subarray(offset, offset + SEALED_CHUNK_SIZE), out);
    }
    this.staged.set(data.subarray(offset), 0);
    this.stagedLength = data.length - offset;
  }

  final(out: Buffer[]): void {
    if (this.keys === undefined) throw new ChunkedDecryptionError('attachment ciphertext is truncated (shorter than its header)');
    // Nothing (or less than a tag) after the last full chunk: the final short chunk is missing.
    if (this.stagedLength < TAG_SIZE) throw new ChunkedDecryptionError('attachment ciphertext is truncated');
    this.open(this.keys, this.staged.subarray(0, this.stagedLength), out);
    this.stagedLength = 0;
    this.wipe();
  }

  /** Zeroes the input key copy and the derived keys: final() does it, and so must a path that stops early. */
  wipe(): void {
    this.inputKey.fill(0);
    this.keys?.material.fill(0);
  }

  private checkCommitment(): MessageKeys {
    const keys = deriveMessageKeys(this.inputKey, this.header.subarray(0, SALT_SIZE), this.context);
    this.inputKey.fill(0);
    if (!timingSafeEqual(keys.commitment, this.header.subarray(SALT_SIZE))) {
      keys.material.fill(0);
      throw new ChunkedDecryptionError('attachment key commitment does not match: wrong key or context, or a modified header');
    }
    return keys;
  }

  private open(keys: MessageKeys, sealed: Buffer | Uint8Array, out: Buffer[]): void {
    const index = this.counter;
    const decipher = createDecipheriv('aes-256-gcm', keys.key, chunkNonce(keys.baseNonce, this.counter++, this.nonce));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_SIZE));
    const plaintext = decipher.update(sealed.subarray(0, sealed.length - TAG_SIZE));
    try {
      decipher.final();
    } catch {
      throw new ChunkedDecryptionError(`chunk ${index} failed authentication`);
    }
    if (plaintext.length > 0) out.push(plaintext);
  }
}

/**
 * Incremental encryptor or decryptor for callers that do their own I/O: `write` and `final`
 * append output pieces to `out` (never retaining `data`, so its buffer may be reused at once).
 */
export interface ChunkProcessor {
  write(data: Uint8Array, out: Buffer[]): void;
  final(out: Buffer[]): void;
  /** Zeroes key material; call it when stopping before final() (an error, a cancelled stream). */
  wipe(): void;
}

function processorStream(processor: ChunkProcessor): Transform {
  const run = (stream: Transform, step: (out: Buffer[]) => void, callback: TransformCallback): void => {
    const out: Buffer[] = [];
    try {
      step(out);
    } catch (error) {
      processor.wipe();
      callback(error as Error);
      return;
    }
    for (const buffer of out) stream.push(buffer);
    callback();
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      run(this, (out) => processor.write(chunk, out), callback);
    },
    flush(callback) {
      run(this, (out) => processor.final(out), callback);
    },
    destroy(error, callback) {
      processor.wipe();
      callback(error);
    },
  });
}

function newSalt(): Buffer {
  return randomBytes(SALT_SIZE);
}

/** Encrypts a byte stream for `context` (which binds vault id and attachment id). */
export function createEncryptStream(key: Uint8Array, context: Uint8Array): Transform {
  return processorStream(new ChunkSealer(key, context, newSalt()));
}

/** The encryptor behind createEncryptStream, without a stream around it. */
export function createChunkSealer(key: Uint8Array, context: Uint8Array): ChunkProcessor {
  return new ChunkSealer(key, context, newSalt());
}

/** The decryptor behind createDecryptStream (same guarantees), without a stream around it. */
export function createChunkOpener(key: Uint8Array, context: Uint8Array): ChunkProcessor {
  return new ChunkOpener(key, context);
}

/**
 * Decrypts a byte stream. Each chunk's plaintext is pushed only after that chunk
 * authenticated; truncation, reordering, trailing data, a wrong key or context make the
 * stream fail with ChunkedDecryptionError. Plaintext already pushed before a truncation is
 * detected at the end is authentic but incomplete: consumers must wait for the end of the
 * stream before treating the output as the attachment.
 */
export function createDecryptStream(key: Uint8Array, context: Uint8Array): Transform {
  return processorStream(new ChunkOpener(key, context));
}

function runAll(processor: ChunkProcessor, input: Uint8Array): Buffer {
  const out: Buffer[] = [];
  try {
    processor.write(input, out);
    processor.final(out);
  } finally {
    processor.wipe();
  }
  return Buffer.concat(out);
}

export function encryptChunked(key: Uint8Array, context: Uint8Array, plaintext: Uint8Array): Buffer {
  return runAll(new ChunkSealer(key, context, newSalt()), plaintext);
}

export function decryptChunked(key: Uint8Array, context: Uint8Array, ciphertext: Uint8Array): Buffer {
  return runAll(new ChunkOpener(key, context), ciphertext);
}

/**
 * Testing only: encryption with a caller-chosen salt (to compare against the vectors and
 * between code paths) and the nonce schedule. A salt must never repeat for a key, so
 * nothing else may use this.
 */
export const testingOnly = {
  createEncryptStream: (key: Uint8Array, context: Uint8Array, salt: Uint8Array): Transform =>
    processorStream(new ChunkSealer(key, context, salt)),
  encryptChunked: (key: Uint8Array, context: Uint8Array, salt: Uint8Array, plaintext: Uint8Array): Buffer =>
    runAll(new ChunkSealer(key, context, salt), plaintext),
  chunkNonce: (baseNonce: Buffer, counter: number): Buffer => chunkNonce(baseNonce, counter, Buffer.alloc(NONCE_SIZE)),
};
