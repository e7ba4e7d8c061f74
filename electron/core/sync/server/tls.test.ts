// sslmode=verify-full really checks the server, with the pg driver as Custody uses it: a server
// whose certificate does not chain to the CA given (--ssl-root-cert) gets no startup message,
// so never sees who connects nor the password exchange; the genuine one gets it over TLS. The
// server here is a stand-in that speaks just enough of PostgreSQL's protocol (the SSLRequest
// answer, then TLS) with certificates made by openssl.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { SyncServer } from '../client/server.ts';
import { withTlsFiles } from './urlPolicy.ts';

let dir: string;

/** A self-signed certificate for localhost and 127.0.0.1 (its own CA). */
function certificate(name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'pipe' });
  return { cert, key };
}

/** A stand-in server presenting `cert`; records what arrives inside TLS. */
async function fakeServer(cert: { cert: string; key: string }): Promise<{ port: number; received: () => Buffer; close: () => Promise<void> }> {
  let received = Buffer.alloc(0);
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('data', () => {
      // The SSLRequest: answer "S" and start TLS on the same socket.
      socket.write('S');
      const secure = new tls.TLSSocket(socket, { isServer: true, cert: readFileSync(cert.cert), key: readFileSync(cert.key) });
      secure.on('error', () => undefined);
      secure.on('data', (d: Buffer) => {
        received = Buffer.concat([received, d]);
        secure.destroy(); // after the startup message: the client's query fails, which is all we need
      });
    });
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return {
    port: (srv.address() as net.AddressInfo).port,
    received: () => received,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        srv.close(() => resolve());
      }),
  };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'custody-tls-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('verify-full with the CA from --ssl-root-cert: an impostor\'s certificate is refused before the startup message; the genuine server gets it over TLS', async () => {
  const genuine = certificate('genuine');
  const impostor = certificate('impostor');
  for (const [presented, accepted] of [
    [impostor, false],
    [genuine, true],
  ] as const) {
    const server = await fakeServer(presented);
    try {
      const url = withTlsFiles(`postgresql://alice:s3cret@localhost:${server.port}/custody?sslmode=verify-full`, { rootCert: genuine.cert });
      const err = (await SyncServer.connect(url).then(
        (s) => s.close().then(() => null),
        (e: unknown) => e as Error,
      ))!;
      expect(err).not.toBeNull();
      expect(err.message).not.toContain('s3cret');
      if (accepted) expect(server.received().includes(Buffer.from('user\0alice\0'))).toBe(true);
      else {
        expect(err.message).toMatch(/self[- ]signed certificate|unable to verify|certificate/i);
        expect(server.received().length).toBe(0);
      }
    } finally {
      await server.close();
    }
  }
});
