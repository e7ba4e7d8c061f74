import { describe, expect, test } from 'vitest';
import { threeWayMerge, type RecordValues } from './merge.ts';

const base: RecordValues = {
  title: 'Interview',
  case: 'C-1',
  tags: ['field', 'draft'],
  classification: 'internal',
  body: 'first notes',
  fields: [
    { name: 'temperature', type: 'number', value: 21 },
    { name: 'site', type: 'text', value: 'north gate' },
  ],
  capturedAt: '2026-03-01T10:00:00.000Z',
};
const edit = (patch: Partial<RecordValues>): RecordValues => ({ ...base, ...patch });

describe('three-way merge', () => {
  test('edits of different fields merge without conflict', () => {
    const r = threeWayMerge(base, edit({ title: 'Interview (revised)' }), edit({ body: 'first notes, and more' }));
    expect(r.conflicts).toEqual([]);
    expect(r.merged).toEqual(edit({ title: 'Interview (revised)', body: 'first notes, and more' }));
  });

  test('the same field changed differently is a conflict, filled from the preferred side', () => {
    const mine = edit({ body: 'mine', case: 'C-2' });
    const theirs = edit({ body: 'theirs', classification: 'restricted' });
    const r = threeWayMerge(base, mine, theirs);
    expect(r.conflicts).toEqual(['body']);
    expect(r.merged).toEqual(edit({ body: 'theirs', case: 'C-2', classification: 'restricted' }));
    expect(threeWayMerge(base, mine, theirs, 'mine').merged.body).toBe('mine');
  });

  test('the same change on both sides is no conflict', () => {
    const r = threeWayMerge(base, edit({ title: 'Same' }), edit({ title: 'Same' }));
    expect(r).toEqual({ merged: edit({ title: 'Same' }), conflicts: [] });
  });

  test('tags merge as a set: additions from both sides, removals from either', () => {
    const r = threeWayMerge(base, edit({ tags: ['field', 'draft', 'mine'] }), edit({ tags: ['field', 'theirs'] }));
    expect(r.conflicts).toEqual([]);
    expect(r.merged.tags).toEqual(['field', 'theirs', 'mine']);
  });

  test('typed fields merge by name; only the same field changed differently conflicts', () => {
    const mine = edit({ fields: [{ name: 'temperature', type: 'number', value: 22 }, base.fields[1]!, { name: 'seen', type: 'date', value: '2026-03-01' }] });
    const theirs = edit({ fields: [base.fields[0]!] }); // removed "site"
    const r = threeWayMerge(base, mine, theirs);
    expect(r.conflicts).toEqual([]);
    expect(r.merged.fields).toEqual([
      { name: 'temperature', type: 'number', value: 22 },
      { name: 'seen', type: 'date', value: '2026-03-01' },
    ]);
    const both = threeWayMerge(base, edit({ fields: [{ name: 'temperature', type: 'number', value: 1 }, base.fields[1]!] }), edit({ fields: [{ name: 'temperature', type: 'number', value: 2 }, base.fields[1]!] }));
    expect(both.conflicts).toEqual(['fields']);
    expect(both.merged.fields[0]).toEqual({ name: 'temperature', type: 'number', value: 2 });
  });

  test('instants compare as instants whatever their spelling', () => {
    const r = threeWayMerge(base, edit({ capturedAt: '2026-03-01T10:00:00Z' }), edit({ title: 'x' }));
    expect(r.conflicts).toEqual([]);
  });

  test('without a base every difference conflicts, except tags and fields present on one side only', () => {
    const r = threeWayMerge(null, edit({ title: 'a', tags: ['x'] }), edit({ title: 'b', tags: ['y'], fields: [...base.fields, { name: 'n', type: 'number', value: 3 }] }));
    expect(r.conflicts).toEqual(['title']);
    expect(r.merged.tags).toEqual(['y', 'x']);
    expect(r.merged.fields).toHaveLength(3);
  });
});
