import { describe, expect, it } from 'vitest';
import { parseWire, stringifyWire, WireError } from './wire.ts';

describe('wire format', () => {
  it('round-trips bytes as {"$bytes": base64}', () => {
    const text = stringifyWire({ a: [new Uint8Array([1, 2, 255])], b: Buffer.from('hi'), c: 'x' });
    expect(text).toBe('{"a":[{"$bytes":"AQL/"}],"b":{"$bytes":"aGk="},"c":"x"}');
    const back = parseWire(text) as { a: Uint8Array[]; b: Uint8Array; c: string };
    expect([...back.a[0]!]).toEqual([1, 2, 255]);
    expect(Buffer.from(back.b).toString()).toBe('hi');
  });

  it('refuses malformed input', () => {
    expect(() => parseWire('{')).toThrow(WireError);
    expect(() => parseWire('{"$bytes":"a b"}')).toThrow(WireError);
    expect(() => parseWire('{"$bytes":"AQL/","x":1}')).toThrow(WireError);
    expect(() => parseWire('{"$bytes":5}')).toThrow(WireError);
    // JSON.parse makes "__proto__" an own key (dispatch refuses it); no prototype changes.
    expect(Object.hasOwn(parseWire('{"__proto__":{"x":1}}') as object, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

it('a large upload (10 MiB) crosses the wire intact', () => {
  const big = Buffer.alloc(10 * 1024 * 1024, 7);
  big[12345] = 1;
  const back = parseWire(stringifyWire({ data: big })) as { data: Buffer };
  expect(back.data.equals(big)).toBe(true);
  expect(() => parseWire('{"$bytes":"abc"}')).toThrow();
  expect(() => parseWire('{"$bytes":"ab=c"}')).toThrow();
});
