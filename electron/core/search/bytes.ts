// Compact binary for the persisted search index: unsigned and zigzag varints, length-prefixed
// UTF-8 strings and raw typed arrays. A reader past the end throws (a truncated file is refused,
// never read as zeros).

export class ByteWriter {
  #buf = new Uint8Array(1 << 16);
  #pos = 0;

  get length(): number {
    return this.#pos;
  }

  #room(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#pos + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.#buf.subarray(0, this.#pos));
    this.#buf = grown;
  }

  uint(n: number): void {
    this.#room(10);
    const b = this.#buf;
    let p = this.#pos;
    while (n >= 0x80) {
      b[p++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    b[p++] = n;
    this.#pos = p;
  }

  /** A signed integer (zigzag: small magnitudes take few bytes). */
  int(n: number): void {
    this.uint(n < 0 ? -2 * n - 1 : 2 * n);
  }

  bytes(data: Uint8Array): void {
    this.uint(data.length);
    this.#room(data.length);
    this.#buf.set(data, this.#pos);
    this.#pos += data.length;
  }

  string(s: string): void {
    this.bytes(Buffer.from(s, 'utf8'));
  }

  /** Bytes as they are, without a length (the caller knows where they end). */
  raw(data: Uint8Array): void {
    this.#room(data.length);
    this.#buf.set(data, this.#pos);
    this.#pos += data.length;
  }

  /** The bytes written so far (a view: copy before writing more). */
  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#pos);
  }
}

export class ByteReader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  uint(): number {
    const b = this.buf;
    let p = this.pos;
    let n = 0;
    let scale = 1;
    for (;;) {
      if (p >= b.length) throw new RangeError('truncated');
      const byte = b[p++]!;
      n += (byte & 0x7f) * scale;
      if (byte < 0x80) break;
      scale *= 0x80;
      if (scale > 2 ** 56) throw new RangeError('varint too long');
    }
    this.pos = p;
    return n;
  }

  int(): number {
    const z = this.uint();
    return z % 2 === 1 ? -(z + 1) / 2 : z / 2;
  }

  bytes(): Uint8Array {
    const n = this.uint();
    if (this.pos + n > this.buf.length) throw new RangeError('truncated');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    const b = this.bytes();
    return Buffer.from(b.buffer, b.byteOffset, b.length).toString('utf8');
  }

  get done(): boolean {
    return this.pos === this.buf.length;
  }
}

/** Decodes `count` (zigzag slot delta, weight) pairs written by encodePairs into `out`. */
export function decodePairs(src: Uint8Array, start: number, end: number, count: number, out: Int32Array): void {
  let p = start;
  let slot = 0;
  for (let i = 0; i < count; i++) {
    let z = 0;
    let shift = 0;
    let byte: number;
    do {
      if (p >= end) throw new RangeError('truncated postings');
      byte = src[p++]!;
      z |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte >= 0x80 && shift < 35);
    slot += z & 1 ? -((z >>> 1) + 1) : z >>> 1;
    let w = 0;
    shift = 0;
    do {
      if (p >= end) throw new RangeError('truncated postings');
      byte = src[p++]!;
      w |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte >= 0x80 && shift < 35);
    out[i * 2] = slot;
    out[i * 2 + 1] = w;
  }
  if (p !== end) throw new RangeError('postings length mismatch');
}
