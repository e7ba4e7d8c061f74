// Sync connections are private. A connection string that leaves this machine (anything but
// loopback or a unix socket) must ask for TLS with the server's certificate checked:
// sslmode=verify-full, or verify-ca with the CA given in sslrootcert. Anything weaker is
// refused with the reason, before a byte (or the password in it) goes out: disable and no
// sslmode send everything in the clear, allow and prefer fall back to the clear, require (and
// the driver's no-verify) encrypt but let anyone on the way pose as the server.
//
// The string is read the way the pg driver reads it (../../../shared/syncUrl.ts): a host=
// parameter overrides the host in the URL, a host starting with '/' is a unix socket, an empty
// host falls back to $PGHOST and then localhost, and of repeated parameters the last counts.
import { isIPv4, isIPv6 } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { accessSync, constants } from 'node:fs';
import { CustodyError } from '../../../shared/errors.ts';
import { parseConnectionString } from '../../../shared/syncUrl.ts';

export interface ConnectionFacts {
  /** Where the driver will connect: a host name, an address, or a socket directory. */
  host: string;
  /** Loopback address, localhost or a unix socket: the connection never leaves this machine. */
  local: boolean;
  sslmode: string | undefined;
  sslrootcert: string | undefined;
}

const bad = (message: string) => new CustodyError('BAD_REQUEST', message);

/** What a connection string connects to and how, as the pg driver will do it. */
export function connectionFacts(url: string): ConnectionFacts {
  if (!/^postgres(ql)?:\/\//.test(url)) throw bad('the sync server must be a postgresql:// connection string');
  const parsed = parseConnectionString(url);
  if (!parsed) throw bad('the sync server connection string is not a valid URL');
  const config = new Map(parsed.params); // the last of each name, as the driver keeps it
  let host = config.get('host') || decodeHost(parsed.noHost ? '' : parsed.url.hostname.replace(/^\[(.+)\]$/, '$1'));
  host ||= process.env.PGHOST || 'localhost';
  return { host, local: isLocal(host), sslmode: config.get('sslmode'), sslrootcert: config.get('sslrootcert') || undefined };
}

function decodeHost(h: string): string {
  try {
    return decodeURIComponent(h);
  } catch {
    return h;
  }
}

/** Whether a host never leaves this machine: a unix socket, localhost, 127.0.0.0/8 or ::1. */
export function isLocal(host: string): boolean {
  if (host.startsWith('/')) return true;
  const h = host.toLowerCase();
  if (h === 'localhost') return true;
  if (isIPv4(h)) return h.startsWith('127.');
  const v6 = h.replace(/^\[(.+)\]$/, '$1');
  if (isIPv6(v6)) {
    let canonical: string;
    try {
      canonical = new URL(`http://[${v6}]/`).hostname; // compressed, lower case
    } catch {
      return false; // e.g. a zone index: a link, not loopback
    }
    return canonical === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical);
  }
  return false;
}

const WEAK: Record<string, string> = {
  disable: 'sends everything, the password included, unencrypted',
  allow: 'falls back to an unencrypted connection',
  prefer: 'falls back to an unencrypted connection',
  require: "encrypts but does not check the server's certificate, so anyone on the way can pose as the server",
  'no-verify': "encrypts but does not check the server's certificate, so anyone on the way can pose as the server",
};

/** Throws BAD_REQUEST, saying why, unless the connection stays on this machine or is TLS with the server checked. */
export function assertPrivateConnection(url: string): void {
  const f = connectionFacts(url);
  if (f.local) return;
  const where = `the sync server ${f.host} is not on this machine`;
  const fix = 'add sslmode=verify-full to the connection string (and sslrootcert, e.g. custody sync configure --ssl-root-cert <file>, if its certificate is not from a public CA)';
  if (f.sslmode === 'verify-full') return;
  if (f.sslmode === 'verify-ca') {
    if (f.sslrootcert) return;
    throw bad(`${where}, and sslmode=verify-ca checks its certificate only against a CA you name: give the CA certificate (sslrootcert, --ssl-root-cert <file>) or use sslmode=verify-full`);
  }
  if (f.sslmode === undefined) throw bad(`${where}, and the connection string has no sslmode, so the connection may be unencrypted: ${fix}`);
  const why = WEAK[f.sslmode] ?? 'is not a TLS mode Custody knows';
  throw bad(`${where}, and sslmode=${f.sslmode} ${why}: ${fix}`);
}

export interface TlsFiles {
  /** CA certificate the server's certificate must chain to (sslrootcert). */
  rootCert?: string;
  /** Client certificate and key, for servers that authenticate clients by certificate. */
  cert?: string;
  key?: string;
}

/**
 * Adds certificate and key files chosen on the command line or in the file dialog (never in
 * a string from the window) as the driver's sslrootcert, sslcert and sslkey, replacing any
 * the string had. Paths are made absolute (the background sync runs from anywhere) and must
 * be readable now.
 */
export function withTlsFiles(url: string, files: TlsFiles): string {
  const entries: [string, string | undefined][] = [
    ['sslrootcert', files.rootCert],
    ['sslcert', files.cert],
    ['sslkey', files.key],
  ];
  let out = url;
  for (const [name, file] of entries) {
    if (!file) continue;
    const path = isAbsolute(file) ? file : resolve(file);
    try {
      accessSync(path, constants.R_OK);
    } catch {
      throw bad(`cannot read the ${name === 'sslrootcert' ? 'CA certificate' : name === 'sslcert' ? 'client certificate' : 'client key'} file ${path}`);
    }
    out = setParam(out, name, path);
  }
  return out;
}

function setParam(url: string, name: string, value: string): string {
  const hash = url.indexOf('#');
  const base = hash < 0 ? url : url.slice(0, hash);
  const q = base.indexOf('?');
  const path = q < 0 ? base : base.slice(0, q);
  const kept = q < 0 ? [] : base.slice(q + 1).split('&').filter((p) => p && decodeHost(p.split('=')[0]!).toLowerCase() !== name);
  return `${path}?${[...kept, `${name}=${encodeURIComponent(value)}`].join('&')}`;
}
