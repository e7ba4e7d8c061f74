// The sync tests need PostgreSQL. describePg gives each test file its own server database
// (pg.ts) and hands it to the tests through `pg()`: when PostgreSQL cannot be reached, every
// test fails with the reason (not skipped in silence), unless CUSTODY_SKIP_PG=1 asks for
// them to be reported as skipped, with that reason in their name.
import { afterAll, beforeAll, describe } from 'vitest';
import { testServer, type TestServer } from './pg.ts';

export const SKIP_PG = process.env.CUSTODY_SKIP_PG === '1';

export function describePg(name: string, fn: (pg: () => TestServer) => void, opts: { provision?: boolean } = {}): void {
  if (SKIP_PG) {
    describe.skip(`${name} [skipped: CUSTODY_SKIP_PG=1, no PostgreSQL]`, () => fn(() => {
      throw new Error('skipped');
    }));
    return;
  }
  describe(name, () => {
    let server: TestServer | undefined;
    let failure: unknown;
    beforeAll(async () => {
      try {
        server = await testServer(opts);
      } catch (e) {
        failure = e;
      }
    });
    afterAll(() => server?.cleanup());
    fn(() => {
      if (!server) throw failure;
      return server;
    });
  });
}
