// Sync connections are private: which connection strings leave this machine, and which of
// those protect the connection, decided the way the pg driver will read the string.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import pgConnectionString from 'pg-connection-string';
import { fileParamsOf } from '../../../shared/syncUrl.ts';
import { SyncServer } from '../client/server.ts';
import { assertPrivateConnection, connectionFacts, isLocal, withTlsFiles } from './urlPolicy.ts';

const refused = (url: string) => {
  try {
    assertPrivateConnection(url);
  } catch (e) {
    expect(e).toMatchObject({ code: 'BAD_REQUEST' });
    return (e as Error).message;
  }
  throw new Error(`${url} was accepted`);
};

describe('hosts on this machine', () => {
  test.each([
    'localhost',
    'LOCALHOST',
    'LocalHost',
    '127.0.0.1',
    '127.255.3.4',
    '127.0.0.0',
    '::1',
    '[::1]',
    '0:0:0:0:0:0:0:1',
    '0000:0000:0000:0000:0000:0000:0000:0001',
    '::ffff:127.0.0.1',
    '::FFFF:7F00:1',
    '/var/run/postgresql',
    '/tmp',
  ])('%s is local', (h) => expect(isLocal(h)).toBe(true));

  test.each([
    'db.example.org',
    'localhost.example.org',
    'localhost.',
    'mylocalhost',
    '127.0.0.1.nip.io',
    '127.1', // shorthand a resolver may take for loopback; not trusted
    '0177.0.0.1',
    '128.0.0.1',
    '10.0.0.5',
    '192.168.1.10',
    '0.0.0.0',
    '::',
    '::2',
    'fe80::1',
    'fe80::1%eth0',
    '::ffff:10.0.0.1',
    '2001:db8::1',
    'db1,localhost',
    '',
    'var/run/postgresql',
  ])('%s is not', (h) => expect(isLocal(h)).toBe(false));
});

describe('connection strings', () => {
  const saved = process.env.PGHOST;
  afterEach(() => {
    if (saved === undefined) delete process.env.PGHOST;
    else process.env.PGHOST = saved;
  });

  test.each([
    'postgresql://a:pw@localhost:5432/custody',
    'postgresql://a:pw@LOCALHOST/custody?sslmode=disable',
    'postgresql://a:pw@127.0.0.1:5432/custody?sslmode=disable',
    'postgres://a:pw@[::1]:5432/custody?sslmode=prefer',
    'postgresql://a:pw@[0:0:0:0:0:0:0:1]/custody',
    'postgresql://a@/custody?host=/var/run/postgresql',
    'postgresql://a@%2Fvar%2Frun%2Fpostgresql/custody',
    'postgresql://a:pw@db.example.org/custody?host=/var/run/postgresql', // host= wins: a socket
    'postgresql://a:pw@db.example.org:5432/custody?sslmode=verify-full',
    'postgresql://a:pw@DB.EXAMPLE.ORG/custody?sslmode=verify-full',
    'postgresql://a:pw@[2001:db8::1]:5432/custody?sslmode=verify-full',
    'postgresql://a:pw@10.0.0.5/custody?sslmode=verify-ca&sslrootcert=/etc/custody/ca.pem',
    'postgresql://a:pw@db.example.org/custody?sslmode=disable&sslmode=verify-full', // the last counts, as in the driver
  ])('accepted: %s', (url) => expect(() => assertPrivateConnection(url)).not.toThrow());

  test.each([
    ['postgresql://a:pw@db.example.org/custody', /no sslmode/],
    ['postgresql://a:pw@db.example.org/custody?ssl=true', /no sslmode/],
    ['postgresql://a:pw@db.example.org/custody?sslmode=disable', /sslmode=disable sends everything, the password included, unencrypted/],
    ['postgresql://a:pw@db.example.org/custody?sslmode=allow', /sslmode=allow falls back to an unencrypted connection/],
    ['postgresql://a:pw@db.example.org/custody?sslmode=prefer', /sslmode=prefer falls back/],
    ['postgresql://a:pw@db.example.org/custody?sslmode=require', /does not check the server's certificate/],
    ['postgresql://a:pw@db.example.org/custody?sslmode=no-verify', /does not check the server's certificate/],
    ['postgresql://a:pw@db.example.org/custody?sslmode=VERIFY-FULL', /not a TLS mode Custody knows/],
    ['postgresql://a:pw@db.example.org/custody?sslmode=verify-ca', /verify-ca .* give the CA certificate/],
    ['postgresql://a:pw@db.example.org/custody?sslmode=verify-full&sslmode=require', /sslmode=require/], // the last counts
    ['postgresql://a:pw@localhost/custody?host=db.example.org&sslmode=disable', /db\.example\.org is not on this machine/], // host= wins: remote
    ['postgresql://a:pw@localhost/custody?host=db.example.org', /no sslmode/],
    ['postgresql://a:pw@127.0.0.1.nip.io/custody?sslmode=disable', /not on this machine/],
    ['postgresql://a:pw@[fe80::1]/custody', /not on this machine/],
    ['postgresql://a:pw@[::ffff:10.0.0.1]/custody?sslmode=require', /not on this machine/],
    ['postgresql://a:pw@0.0.0.0/custody', /not on this machine/],
    ['postgresql://a:pw@192.168.1.10:5432/custody?sslmode=prefer', /192\.168\.1\.10 is not on this machine/],
  ])('refused: %s', (url, why) => {
    const message = refused(url);
    expect(message).toMatch(why);
    expect(message).not.toContain('pw@');
  });

  test('an empty host is whatever the driver falls back to: $PGHOST, then localhost', () => {
    delete process.env.PGHOST;
    expect(connectionFacts('postgresql://a@/custody').host).toBe('localhost');
    process.env.PGHOST = 'db.example.org';
    expect(refused('postgresql://a@/custody?sslmode=require')).toMatch(/db\.example\.org is not on this machine/);
    process.env.PGHOST = '/var/run/postgresql';
    expect(() => assertPrivateConnection('postgresql://a@/custody')).not.toThrow();
  });

  test('the host and sslmode read here are the ones the pg driver reads', () => {
    for (const url of [
      'postgresql://a:pw@DB.example.org:5432/custody?sslmode=verify-full',
      'postgresql://a:pw@localhost/custody?host=db.example.org&sslmode=require',
      'postgresql://a:pw@[::1]/custody',
      'postgresql://a@%2Fvar%2Frun%2Fpostgresql/custody',
      'postgresql://a:p w@db.example.org/custody?sslmode=verify-ca&sslmode=disable',
    ]) {
      const driver = pgConnectionString.parse(url);
      const mine = connectionFacts(url);
      expect(mine.host.toLowerCase(), url).toBe(String(driver.host).toLowerCase());
      expect(mine.sslmode, url).toBe(driver.sslmode ?? undefined);
    }
  });

  test('a refused string is refused before any connection is tried, and the message hides the password', async () => {
    // 192.0.2.0/24 is TEST-NET-1: nothing answers there, so a connection attempt would hang, not fail fast.
    const err = await SyncServer.connect('postgresql://alice:s3cret@192.0.2.1:5432/custody?sslmode=require').catch((e: unknown) => e as Error);
    expect(err).toMatchObject({ code: 'BAD_REQUEST' });
    expect((err as Error).message).toMatch(/192\.0\.2\.1 is not on this machine, and sslmode=require/);
    expect((err as Error).message).not.toContain('s3cret');
  });
});

describe('file parameters', () => {
  test.each([
    ['postgresql://a@h/db?sslmode=verify-full&sslrootcert=/etc/ssl/ca.pem', ['sslrootcert']],
    ['postgresql://a@h/db?sslcert=/home/u/.ssh/id_ed25519&sslkey=/etc/shadow', ['sslcert', 'sslkey']],
    ['postgresql://a@h/db?sslpassword=x', ['sslpassword']],
    ['postgresql://a@h/db?SSLROOTCERT=/x', ['sslrootcert']],
    ['postgresql://a@h/db?ssl%72ootcert=/x', ['sslrootcert']], // percent-encoded name: the driver decodes it
    ['postgresql://a@h/db?x=1&sslkey=/x&y=2', ['sslkey']],
    ['postgresql://a@/db?host=/tmp&sslcert=/x', ['sslcert']],
    ['postgresql://a:p w@h/db?sslkey=/x', ['sslkey']], // a space makes the driver re-encode first
    ['postgresql://a@h/db?sslmode=verify-full', []],
    ['postgresql://a:sslrootcert@h/db?application_name=sslkey', []],
  ])('%s carries %j', (url, names) => expect(fileParamsOf(url)).toEqual(names));

  test('every name the driver would read a file for is caught', () => {
    const url = 'postgresql://a@h/db?SSLCERT=/1&ssl%6Bey=/2&sslrootcert=/3';
    const driverReads = Object.keys(pgConnectionString.parse(url.replace(/\/[123]/g, '/dev/null'))).filter((k) => ['sslcert', 'sslkey', 'sslrootcert'].includes(k));
    expect(fileParamsOf(url)).toEqual(expect.arrayContaining(driverReads));
  });

  test('the command line adds certificate files as absolute paths, replacing any in the string; unreadable ones are refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'custody-tls-'));
    const ca = join(dir, 'ca with space.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n');
    const url = withTlsFiles('postgresql://a:pw@db.example.org/custody?sslmode=verify-ca&sslrootcert=/old.pem', { rootCert: ca });
    expect(pgConnectionString.parse(url).sslrootcert).toBe(ca);
    expect(connectionFacts(url).sslrootcert).toBe(ca);
    expect(() => assertPrivateConnection(url)).not.toThrow();
    expect(withTlsFiles('postgresql://a@h/db', {})).toBe('postgresql://a@h/db');
    expect(() => withTlsFiles('postgresql://a@h/db', { key: join(dir, 'missing.key') })).toThrow(/cannot read the client key file/);
  });
});
