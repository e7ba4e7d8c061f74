// A device's connection to the sync server: one small pg pool, shared by the generated Prisma
// client (through the pg driver adapter, schema "custody") for ordinary queries and by the
// push paths, which use pg directly with array parameters (unnest) because per-row Prisma
// calls cost a round trip each and a 10,000-record push would take tens of seconds.
// Every failure leaves here as a CustodyError whose message never contains the password.
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { CustodyError } from '../../../shared/errors.ts';
import { PrismaClient } from '../generated/client.ts';
import { redactUrl, safeError, safeMessage } from '../server/connectionString.ts';
import { SERVER_SCHEMA_VERSION } from '../server/provision.ts';
import { assertPrivateConnection } from '../server/urlPolicy.ts';

export type ServerPrisma = PrismaClient;

/** Connection problems (as opposed to refusals by the server): worth retrying later. */
const TRANSIENT = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', '53300']);

export function isTransient(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  if (typeof code === 'string' && TRANSIENT.has(code)) return true;
  const message = e instanceof Error ? e.message : '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|terminating connection|the database system is (starting|shutting) up|Connection ended unexpectedly/i.test(message);
}

/** An error from the server wrapped for people; `transient` says whether a retry may help. */
export class SyncServerError extends CustodyError {
  constructor(
    message: string,
    readonly transient: boolean,
  ) {
    super('INTERNAL', message);
  }
}

export class SyncServer {
  readonly pool: pg.Pool;
  readonly prisma: ServerPrisma;
  readonly display: string;

  private constructor(readonly url: string) {
    this.display = redactUrl(url);
    this.pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5000, idleTimeoutMillis: 10_000, query_timeout: 120_000, allowExitOnIdle: true });
    // A connection the server ends (restart, pg_terminate_backend) must not crash the process:
    // the query in flight fails and is reported; the event itself is not.
    this.pool.on('error', () => undefined);
    this.pool.on('connect', (client) => client.on('error', () => undefined));
    this.prisma = new PrismaClient({ adapter: new PrismaPg(this.pool, { schema: 'custody' }) });
  }

  /** Connects and checks that the server runs the schema this app speaks. */
  static async connect(url: string): Promise<SyncServer> {
    // Nothing leaves this machine unless it goes over TLS to a server whose certificate is checked.
    assertPrivateConnection(url);
    const server = new SyncServer(url);
    try {
      const version = await server.run('check the server schema', async (c) => {
        const r = await c.query<{ v: number | null }>("SELECT (SELECT max(id) FROM custody._migrations) AS v WHERE to_regclass('custody._migrations') IS NOT NULL");
        return r.rows[0]?.v ?? null;
      });
      if (version === null) throw new CustodyError('BAD_REQUEST', `the server ${server.display} has no Custody schema (or this role may not use it); run "custody server init" there`);
      if (version > SERVER_SCHEMA_VERSION) throw new CustodyError('DATABASE_TOO_NEW', `the server ${server.display} was provisioned by a newer Custody (schema ${version}); update the app`);
      if (version < SERVER_SCHEMA_VERSION) throw new CustodyError('BAD_REQUEST', `the server ${server.display} runs an older schema (${version}); run "custody server init" there to upgrade it`);
      return server;
    } catch (e) {
      await server.close();
      throw e;
    }
  }

  /** Runs fn on one pooled connection; failures become SyncServerErrors without secrets. */
  async run<T>(what: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw this.#wrap(e, what);
    }
    let broken = false;
    try {
      return await fn(client);
    } catch (e) {
      broken = isTransient(e);
      throw this.#wrap(e, what);
    } finally {
      client.release(broken);
    }
  }

  /** Runs fn in a transaction (rolled back on any error, and by the server if we vanish). */
  tx<T>(what: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.run(what, async (c) => {
      await c.query('BEGIN');
      try {
        const result = await fn(c);
        await c.query('COMMIT');
        return result;
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
    });
  }

  /** Runs a Prisma query, wrapping its errors like run(). */
  async query<T>(what: string, fn: (p: ServerPrisma) => Promise<T>): Promise<T> {
    try {
      return await fn(this.prisma);
    } catch (e) {
      throw this.#wrap(e, what);
    }
  }

  #wrap(e: unknown, what: string): CustodyError {
    if (e instanceof CustodyError) return e;
    const transient = isTransient(e) || isTransient((e as { cause?: unknown })?.cause);
    if (transient) return new SyncServerError(`the sync server ${this.display} is unreachable (${what}): ${safeMessage(e, this.url)}`, true);
    return new SyncServerError(safeError(e, this.url, `the sync server refused to ${what}`).message, false);
  }

  async close(): Promise<void> {
    await this.prisma.$disconnect().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }
}
