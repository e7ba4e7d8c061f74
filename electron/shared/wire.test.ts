// The {"$bytes"} wire format both ends use (the web shell's server and the renderer's client).
// Plain data only here: this file compiles on the browser side too (no Buffer).
import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64, parseWire, stringifyWire, toWire, WireError } from './wire.ts';

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe('base64', () => {
  it('matches the test vectors of RFC 4648 (section 10)', () => {
    for (const [plain, b64] of [
      ['', ''],
      ['f', 'Zg=='],
      ['fo', 'Zm8='],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg=='],
      ['fooba', 'Zm9vYmE='],
      ['foobar', 'Zm9vYmFy'],
    ] as const) {
      expect(encodeBase64(ascii(plain)), plain).toBe(b64);
      expect([...decodeBase64(b64)], b64).toEqual([...ascii(plain)]);
    }
  });

  it('round-trips every byte value, at every length (so every padding)', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(encodeBase64(all)).toMatch(/^[A-Za-z0-9+/]+==$/);
    expect(encodeBase64(new Uint8Array([0xfb, 0xff]))).toBe('+/8='); // the last two symbols of the alphabet
    for (let n = 0; n <= all.length; n++) expect([...decodeBase64(encodeBase64(all.subarray(n)))]).toEqual([...all.subarray(n)]);
  });

  it('refuses anything but canonical base64', () => {
    for (const bad of ['a', 'abc', 'ab=c', 'a===', '====', 'Zm9v\n', 'Zm9v Zg==', 'Zm9-', 'Zm9_', 'Zm9v\u00e9AAA', 'QR==', 'Zm9=']) {
      expect(() => decodeBase64(bad), JSON.stringify(bad)).toThrow(WireError);
    }
  });
});

describe('wire format', () => {
  it('round-trips bytes as {"$bytes": base64}', () => {
    const text = stringifyWire({ a: [new Uint8Array([1, 2, 255])], b: ascii('hi'), c: 'x', d: { e: new Uint8Array(0) } });
    expect(text).toBe('{"a":[{"$bytes":"AQL/"}],"b":{"$bytes":"aGk="},"c":"x","d":{"e":{"$bytes":""}}}');
    const back = parseWire(text) as { a: Uint8Array[]; b: Uint8Array; c: string; d: { e: Uint8Array } };
    expect(back.a[0]).toBeInstanceOf(Uint8Array);
    expect([...back.a[0]!]).toEqual([1, 2, 255]);
    expect([...back.b]).toEqual([...ascii('hi')]);
    expect(back.d.e).toEqual(new Uint8Array(0));
  });

  it('encodes a view by its own bytes, not the whole buffer under it', () => {
    const buffer = new Uint8Array([9, 9, 1, 2, 3, 9]);
    expect(toWire(buffer.subarray(2, 5))).toEqual({ $bytes: 'AQID' });
  });

  it('refuses malformed input', () => {
    expect(() => parseWire('{')).toThrow(WireError);
    expect(() => parseWire('{"$bytes":"a b"}')).toThrow(WireError);
    expect(() => parseWire('{"$bytes":"AQL/","x":1}')).toThrow(WireError);
    expect(() => parseWire('{"$bytes":5}')).toThrow(WireError);
    expect(() => parseWire('{"$bytes":"abc"}')).toThrow(WireError);
    expect(() => parseWire('{"$bytes":"ab=c"}')).toThrow(WireError);
    // JSON.parse makes "__proto__" an own key (dispatch refuses it); no prototype changes.
    expect(Object.hasOwn(parseWire('{"__proto__":{"x":1}}') as object, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    // ... and encoding keeps it an own key rather than setting a prototype.
    expect(stringifyWire(JSON.parse('{"__proto__":{"x":1}}'))).toBe('{"__proto__":{"x":1}}');
  });

  it('a large upload (10 MiB) crosses the wire intact', () => {
    const big = new Uint8Array(10 * 1024 * 1024).fill(7);
    big[12345] = 1;
    big[big.length - 1] = 255;
    const back = (parseWire(stringifyWire({ data: big })) as { data: Uint8Array }).data;
    expect(back.length).toBe(big.length);
    expect(back.every((b, i) => b === big[i])).toBe(true);
  });
});
