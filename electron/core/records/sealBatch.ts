// Sealing many new records on two cores (bulk import): the records of a large import are
// sealed before its transaction opens, half here and half on a helper thread, so the database
// thread's transaction only writes. The formats are those of codec.ts (format 2 fields, the
// DEK wrapped under the day's epoch key); records.test.ts-style reads open what this seals
// (sealBatch.test.ts), so the two cannot drift apart unnoticed.
import * as nodeCrypto from 'node:crypto';
import { Worker } from 'node:worker_threads';

/** One new record to seal (version 1). */
export interface SealJob {
  id: string;
  kind: string;
  capturedAt: number;
  day: string;
  summary: string;
  content: string;
}

export interface SealedRow {
  wrapped: Uint8Array;
  summary: Uint8Array;
  content: Uint8Array;
}

/**
 * Seals `jobs`. Runs here and, as source text, on the helper thread: it uses nothing but its
 * arguments. `epochKeys` maps each day to its epoch key (from Keyring.epochKey).
 */
function sealJobs(jobs: readonly SealJob[], vaultId: string, epochKeys: Record<string, Uint8Array>, crypto: typeof nodeCrypto): SealedRow[] {
  const ad = (parts: (string | number)[]): Buffer => Buffer.from(['custody/v1', ...parts].join('\x1f'), 'utf8');
  const seal = (key: Uint8Array, plain: Uint8Array, data: Buffer, prefix: number[]): Buffer => {
    const nonce = crypto.randomBytes(12);
    const c = crypto.createCipheriv('aes-256-gcm', key, nonce);
    c.setAAD(data);
    const body = c.update(plain);
    const final = c.final();
    return Buffer.concat([Buffer.from(prefix), nonce, body, final, c.getAuthTag()]);
  };
  return jobs.map((j) => {
    const dek = crypto.randomBytes(32);
    const field = (name: string) => ad(['record/v2', vaultId, j.id, 1, name, j.kind, j.capturedAt, j.day]);
    const key = epochKeys[j.day];
    if (!key) throw new Error(`no epoch key for ${j.day}`);
    const row = {
      wrapped: seal(key, dek, ad(['dek', vaultId, j.id, j.day]), []),
      summary: seal(dek, Buffer.from(j.summary, 'utf8'), field('summary'), [2]),
      content: seal(dek, Buffer.from(j.content, 'utf8'), field('content'), [2]),
    };
    dek.fill(0);
    return row;
  });
}

const WORKER_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const sealJobs = ${sealJobs.toString()};
const { jobs, vaultId, epochKeys } = workerData;
try {
  parentPort.postMessage({ rows: sealJobs(jobs, vaultId, epochKeys, require('node:crypto')) });
} catch (e) {
  parentPort.postMessage({ error: String(e && e.message) });
} finally {
  for (const k of Object.values(epochKeys)) k.fill(0);
}
`;

/** Below this many records a helper thread (~50 ms to start) does not pay. */
export const SEAL_THREAD_FROM = 4096;

/**
 * Seals every job, the second half on a helper thread (from `threadFrom` jobs on). The epoch
 * keys handed to the thread are copies, zeroed there when it is done.
 */
export async function sealBatch(jobs: readonly SealJob[], vaultId: string, epochKey: (day: string) => Uint8Array, threadFrom = SEAL_THREAD_FROM): Promise<SealedRow[]> {
  const keys: Record<string, Uint8Array> = {};
  for (const j of jobs) keys[j.day] ??= epochKey(j.day);
  if (jobs.length < threadFrom) return sealJobs(jobs, vaultId, keys, nodeCrypto);
  const half = Math.floor(jobs.length / 2);
  const copies = Object.fromEntries(Object.entries(keys).map(([d, k]) => [d, Uint8Array.from(k)]));
  // No flags or environment of ours (the CLI's may hold CUSTODY_PASSWORD): it needs neither.
  const worker = new Worker(WORKER_SOURCE, { eval: true, name: 'custody-seal', execArgv: [], env: {}, workerData: { jobs: jobs.slice(half), vaultId, epochKeys: copies } });
  for (const k of Object.values(copies)) k.fill(0);
  const theirs = new Promise<SealedRow[]>((resolve, reject) => {
    worker.once('message', (m: { rows?: SealedRow[]; error?: string }) => (m.rows ? resolve(m.rows) : reject(new Error(`sealing on the helper thread failed: ${m.error}`))));
    worker.once('error', (e) => reject(new Error(`the sealing thread failed: ${e.message}`)));
    worker.once('exit', (code) => reject(new Error(`the sealing thread stopped (exit code ${code})`)));
  });
  try {
    const mine = sealJobs(jobs.slice(0, half), vaultId, keys, nodeCrypto);
    return [...mine, ...(await theirs)];
  } finally {
    void worker.terminate();
  }
}
