// Three-way merge of a record edited on two devices, against the version both started from
// (the base, which the local record_version history holds). Field by field: a field only one
// side changed takes that side's value; a field both changed to the same value is fine; a
// field both changed differently is a conflict, filled from `prefer` and reported by name.
// Tags merge as a set (additions from both sides, removals from either) and typed fields by
// their name, so those two only conflict when the same tag field or typed field differs.
import canonicalize from 'canonicalize';
import type { Classification, Field } from '../../../shared/records.ts';

export interface RecordValues {
  title: string;
  case: string;
  tags: string[];
  classification: Classification;
  body: string;
  fields: Field[];
  capturedAt: string;
}

export type MergeKey = keyof RecordValues;
export const MERGE_KEYS: readonly MergeKey[] = ['title', 'case', 'tags', 'classification', 'body', 'fields', 'capturedAt'];

export interface MergeResult {
  merged: RecordValues;
  /** Keys both sides changed differently (names only, never values). */
  conflicts: MergeKey[];
}

const same = (a: unknown, b: unknown): boolean => canonicalize(a) === canonicalize(b);

/** Instants compare as instants, whatever their ISO spelling. */
const sameValue = (key: MergeKey, a: unknown, b: unknown): boolean => (key === 'capturedAt' ? Date.parse(a as string) === Date.parse(b as string) : same(a, b));

function mergeScalar<T>(key: MergeKey, base: T | undefined, mine: T, theirs: T, hasBase: boolean): { value: T; conflict: boolean } {
  if (sameValue(key, mine, theirs)) return { value: mine, conflict: false };
  if (hasBase && sameValue(key, mine, base)) return { value: theirs, conflict: false };
  if (hasBase && sameValue(key, theirs, base)) return { value: mine, conflict: false };
  return { value: theirs, conflict: true };
}

function mergeTags(base: string[] | undefined, mine: string[], theirs: string[]): string[] {
  const removed = new Set(base ? base.filter((t) => !mine.includes(t) || !theirs.includes(t)) : []);
  return [...new Set([...theirs, ...mine])].filter((t) => !removed.has(t));
}

function mergeFields(base: Field[] | undefined, mine: Field[], theirs: Field[], prefer: 'mine' | 'theirs'): { value: Field[]; conflict: boolean } {
  const byName = (list: Field[] | undefined) => new Map((list ?? []).map((f) => [f.name, f]));
  const b = byName(base);
  const m = byName(mine);
  const t = byName(theirs);
  let conflict = false;
  const out: Field[] = [];
  for (const name of new Set([...t.keys(), ...m.keys()])) {
    const [bv, mv, tv] = [b.get(name), m.get(name), t.get(name)];
    let v: Field | undefined;
    if (same(mv, tv)) v = mv;
    else if (base && same(mv, bv)) v = tv;
    else if (base && same(tv, bv)) v = mv;
    else if (!base && (mv === undefined || tv === undefined)) v = mv ?? tv;
    else {
      conflict = true;
      v = prefer === 'mine' ? mv : tv;
    }
    if (v) out.push(v);
  }
  return { value: out, conflict };
}

/**
 * Merges mine and theirs against base (null when the base version is unknown: then every
 * difference is a conflict, except tags and typed fields present on one side only).
 */
export function threeWayMerge(base: RecordValues | null, mine: RecordValues, theirs: RecordValues, prefer: 'mine' | 'theirs' = 'theirs'): MergeResult {
  const conflicts: MergeKey[] = [];
  const merged = { ...theirs };
  const scalar = <K extends 'title' | 'case' | 'classification' | 'body' | 'capturedAt'>(key: K) => {
    const r = mergeScalar(key, base?.[key], mine[key], theirs[key], base !== null);
    if (r.conflict) {
      conflicts.push(key);
      merged[key] = prefer === 'mine' ? mine[key] : theirs[key];
    } else merged[key] = r.value;
  };
  scalar('title');
  scalar('case');
  merged.tags = mergeTags(base?.tags, mine.tags, theirs.tags);
  scalar('classification');
  scalar('body');
  const fields = mergeFields(base?.fields, mine.fields, theirs.fields, prefer);
  merged.fields = fields.value;
  if (fields.conflict) conflicts.push('fields');
  scalar('capturedAt');
  return { merged, conflicts };
}
