// Words as the index and the query both see them: letters and digits, lower case, accents
// folded (so "cafe" finds "Café"), so that an analyst need not type a note exactly as written.

const SEPARATORS = /[^\p{L}\p{N}]+/u;
const MARKS = /\p{M}/gu;
/** Longer "words" are base64 blobs or hashes pasted into a note: nobody types them to search. */
export const MAX_TERM_LENGTH = 64;

export function normalize(text: string): string {
  // NFKD splits "é" into "e" + a combining accent, which MARKS then drops. ASCII needs neither.
  // eslint-disable-next-line no-control-regex
  return (/[^\u0000-\u007f]/.test(text) ? text.normalize('NFKD').replace(MARKS, '') : text).toLowerCase();
}

export function tokenize(text: string): string[] {
  // split() is faster than matchAll() here; it leaves empty strings at the ends.
  return normalize(text).split(SEPARATORS).filter((t) => t.length > 0 && t.length <= MAX_TERM_LENGTH);
}
