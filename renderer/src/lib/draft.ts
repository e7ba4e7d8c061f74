// The editor works on strings (what inputs hold) and converts to the contract's typed
// record only on save, so half-typed numbers or coordinates are not lost or coerced early.
import type { Classification, Field, FieldType, RecordKind, RecordPatch, RecordView } from '../../../electron/shared/records.ts';
import { fromLocalInput, toLocalInput } from './format.ts';

export interface DraftField {
  key: number;
  name: string;
  type: FieldType;
  /** text / number / date value as typed. */
  value: string;
  lat: string;
  lon: string;
  label: string;
}

export interface Draft {
  kind: RecordKind;
  title: string;
  body: string;
  fields: DraftField[];
  case: string;
  tags: string[];
  classification: Classification;
  /** datetime-local value (local wall time). */
  capturedAt: string;
}

let nextKey = 1;

export const emptyField = (type: FieldType = 'text'): DraftField => ({ key: nextKey++, name: '', type, value: '', lat: '', lon: '', label: '' });

export function fieldToDraft(f: Field): DraftField {
  const base = emptyField(f.type);
  switch (f.type) {
    case 'location':
      return { ...base, name: f.name, lat: String(f.value.lat), lon: String(f.value.lon), label: f.value.label ?? '' };
    case 'number':
      return { ...base, name: f.name, value: String(f.value) };
    default:
      return { ...base, name: f.name, value: f.value };
  }
}

export function newDraft(kind: RecordKind): Draft {
  return { kind, title: '', body: '', fields: kind === 'observation' ? [emptyField()] : [], case: '', tags: [], classification: 'internal', capturedAt: toLocalInput(new Date().toISOString()) };
}

export function draftOf(r: RecordView): Draft {
  return { kind: r.kind, title: r.title, body: r.body, fields: r.fields.map(fieldToDraft), case: r.case, tags: [...r.tags], classification: r.classification, capturedAt: toLocalInput(r.capturedAt) };
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** Draft fields -> typed fields, or a message that names the field to fix. */
export function draftFields(fields: DraftField[]): { ok: true; fields: Field[] } | { ok: false; message: string } {
  const out: Field[] = [];
  for (const [i, f] of fields.entries()) {
    const name = f.name.trim();
    const where = `Field ${i + 1}${name ? ` (“${name}”)` : ''}`;
    const blank = f.type === 'location' ? !f.lat.trim() && !f.lon.trim() && !f.label.trim() : !f.value.trim();
    if (!name && blank) continue; // an untouched empty row is not an error
    if (!name) return { ok: false, message: `${where} needs a name.` };
    switch (f.type) {
      case 'text':
        out.push({ name, type: 'text', value: f.value });
        break;
      case 'number': {
        const n = Number(f.value.trim());
        if (!f.value.trim() || !Number.isFinite(n)) return { ok: false, message: `${where}: enter a number.` };
        out.push({ name, type: 'number', value: n });
        break;
      }
      case 'date':
        if (!DATE.test(f.value) && !DATETIME.test(f.value)) return { ok: false, message: `${where}: enter a date.` };
        out.push({ name, type: 'date', value: f.value });
        break;
      case 'location': {
        const lat = Number(f.lat.trim());
        const lon = Number(f.lon.trim());
        if (!f.lat.trim() || !Number.isFinite(lat) || lat < -90 || lat > 90) return { ok: false, message: `${where}: latitude must be between -90 and 90.` };
        if (!f.lon.trim() || !Number.isFinite(lon) || lon < -180 || lon > 180) return { ok: false, message: `${where}: longitude must be between -180 and 180.` };
        out.push({ name, type: 'location', value: { lat, lon, ...(f.label.trim() ? { label: f.label.trim() } : {}) } });
        break;
      }
    }
  }
  return { ok: true, fields: out };
}

export type ValidDraft = Pick<RecordView, 'title' | 'body' | 'fields' | 'case' | 'tags' | 'classification' | 'capturedAt'>;

export function validateDraft(d: Draft): { ok: true; value: ValidDraft } | { ok: false; message: string } {
  const title = d.title.trim();
  if (!title) return { ok: false, message: 'Give the record a title.' };
  const capturedAt = fromLocalInput(d.capturedAt);
  if (!capturedAt) return { ok: false, message: 'Enter when the material was captured.' };
  const fields = d.kind === 'observation' ? draftFields(d.fields) : { ok: true as const, fields: [] };
  if (!fields.ok) return fields;
  return { ok: true, value: { title, body: d.body, fields: fields.fields, case: d.case.trim(), tags: d.tags, classification: d.classification, capturedAt } };
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Only what changed, so the version history shows the real edit. */
export function patchOf(before: RecordView, v: ValidDraft): RecordPatch {
  const patch: RecordPatch = {};
  if (v.title !== before.title) patch.title = v.title;
  if (v.body !== before.body) patch.body = v.body;
  if (before.kind === 'observation' && !sameJson(v.fields, before.fields)) patch.fields = v.fields;
  if (v.case !== before.case) patch.case = v.case;
  if (!sameJson(v.tags, before.tags)) patch.tags = v.tags;
  if (v.classification !== before.classification) patch.classification = v.classification;
  // datetime-local has minute precision: only a change of the minute counts as an edit.
  if (toLocalInput(v.capturedAt) !== toLocalInput(before.capturedAt)) patch.capturedAt = v.capturedAt;
  return patch;
}

export const isDirty = (d: Draft | null, r: RecordView | null): boolean => {
  if (!d) return false;
  if (!r) return d.title.trim() !== '' || d.body.trim() !== '' || d.tags.length > 0 || d.case.trim() !== '';
  return !sameJson(stripKeys(draftOf(r)), stripKeys(d));
};

const stripKeys = (d: Draft) => ({ ...d, fields: d.fields.map(({ key: _key, ...rest }) => rest) });
