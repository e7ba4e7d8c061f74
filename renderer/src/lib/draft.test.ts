import { describe, expect, it } from 'vitest';
import type { RecordView } from '../../../electron/shared/records.ts';
import { draftFields, draftOf, emptyField, isDirty, newDraft, patchOf, validateDraft } from './draft.ts';

const record: RecordView = {
  id: '01a20131-5adc-7d11-bc8d-2f660dc8569e',
  kind: 'observation',
  title: 'Yard survey',
  body: 'Fog.',
  fields: [
    { name: 'Depth', type: 'number', value: 12.5 },
    { name: 'Site', type: 'location', value: { lat: 51.5, lon: -0.12, label: 'Dock 4' } },
  ],
  case: 'CASE-1',
  tags: ['port'],
  classification: 'internal',
  capturedAt: '2026-11-20T09:30:00.000Z',
  createdAt: '2026-11-20T09:30:00.000Z',
  updatedAt: '2026-11-20T09:30:00.000Z',
  version: 3,
  deletedAt: null,
  attachments: [],
};

describe('draft fields', () => {
  it('converts typed inputs and names the field that is wrong', () => {
    const f = (patch: Partial<ReturnType<typeof emptyField>>) => ({ ...emptyField(), ...patch });
    expect(draftFields([f({ name: 'n', type: 'number', value: ' 4.5 ' })])).toEqual({ ok: true, fields: [{ name: 'n', type: 'number', value: 4.5 }] });
    expect(draftFields([f({ name: 'Depth', type: 'number', value: 'deep' })])).toEqual({ ok: false, message: 'Field 1 (“Depth”): enter a number.' });
    expect(draftFields([f({ name: 'p', type: 'location', lat: '91', lon: '0' })])).toMatchObject({ ok: false, message: expect.stringContaining('latitude') });
    expect(draftFields([f({ name: 'd', type: 'date', value: '2026-11-19' })])).toMatchObject({ ok: true });
    expect(draftFields([f({ name: '', value: 'orphan' })])).toMatchObject({ ok: false, message: 'Field 1 needs a name.' });
    // An untouched empty row is ignored, not an error.
    expect(draftFields([f({})])).toEqual({ ok: true, fields: [] });
  });
});

describe('editing a record', () => {
  it('round-trips a record through the draft without changes', () => {
    const d = draftOf(record);
    expect(isDirty(d, record)).toBe(false);
    const v = validateDraft(d);
    expect(v.ok).toBe(true);
    if (v.ok) expect(patchOf(record, v.value)).toEqual({});
  });

  it('patches only what changed', () => {
    const d = { ...draftOf(record), title: ' Yard survey (2) ', tags: ['port', 'night'] };
    expect(isDirty(d, record)).toBe(true);
    const v = validateDraft(d);
    if (!v.ok) throw new Error(v.message);
    expect(patchOf(record, v.value)).toEqual({ title: 'Yard survey (2)', tags: ['port', 'night'] });
  });

  it('requires a title and keeps typed fields off notes', () => {
    expect(validateDraft(newDraft('note'))).toEqual({ ok: false, message: 'Give the record a title.' });
    const v = validateDraft({ ...newDraft('note'), title: 'x', fields: [{ ...emptyField(), name: 'a', value: 'b' }] });
    expect(v.ok && v.value.fields).toEqual([]);
  });
});
