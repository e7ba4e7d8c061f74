// PostgreSQL connection strings as the pg driver reads them (pg-connection-string), for the
// checks that must agree with it: which parameters a string carries and which of them name
// files on this computer. Pure functions (the IPC contract validates with them; core's
// sync/server/urlPolicy.ts builds the connection policy on them).

/**
 * Parameters the driver opens as files (sslrootcert, sslcert, sslkey: read at connect time and
 * the client certificate sent to the server) or that unlock one (sslpassword). A string the
 * window sends must not carry them: it could make the app read any file and hand it to a
 * server of the page's choosing. They come only from the command line or the file dialog.
 */
export const SYNC_FILE_PARAMS: readonly string[] = ['sslrootcert', 'sslcert', 'sslkey', 'sslpassword'];

export const FILE_PARAMS_REFUSED =
  'certificate and key files (sslrootcert, sslcert, sslkey, sslpassword) cannot be set from the window: choose the CA certificate with the file dialog, or configure sync with the command line (custody sync configure --ssl-root-cert <file>)';

export interface ParsedConnectionString {
  /** The URL as the driver's parser saw it. */
  url: URL;
  /** Whether the string had no host part (postgresql:///db or user@/db). */
  noHost: boolean;
  /** Query parameters, names decoded, in order (the driver keeps the last of each name). */
  params: [string, string][];
}

/** Parses like pg-connection-string (same normalization, same fallback for an empty host); null if it cannot. */
export function parseConnectionString(text: string): ParsedConnectionString | null {
  let str = text;
  if (/ |%[^a-f0-9]|%[a-f0-9][^a-f0-9]/i.test(str)) str = encodeURI(str).replace(/%25(\d\d)/g, '%$1');
  try {
    const url = new URL(str, 'postgres://base');
    return { url, noHost: false, params: [...url.searchParams.entries()] };
  } catch {
    try {
      const url = new URL(str.replace('@/', '@___DUMMY___/'), 'postgres://base');
      return { url, noHost: true, params: [...url.searchParams.entries()] };
    } catch {
      return null;
    }
  }
}

/** The file parameters a connection string carries (any spelling of their names), in order. */
export function fileParamsOf(text: string): string[] {
  const parsed = parseConnectionString(text);
  // Unparseable strings are refused elsewhere; a raw look catches what a parser might not.
  const names = parsed ? parsed.params.map(([k]) => k) : [...text.matchAll(/[?&]([^=&#]*)=/g)].map((m) => decode(m[1]!));
  return names.map((n) => n.trim().toLowerCase()).filter((n) => SYNC_FILE_PARAMS.includes(n));
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}
