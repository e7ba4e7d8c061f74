// `npm test`: every check, in order, with one closing summary line.
//   lint (incl. the layering rule) -> typecheck -> Electron security checks (our own and
//   Doyensec's Electronegativity) -> vitest (unit,
//   integration, CLI, crash) -> Playwright (end-to-end in Chromium against the web shell).
// Exits non-zero if anything failed. Skipped tests are counted and listed with their reason.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';

mkdirSync('artifacts', { recursive: true });
const stages = [];
const run = (name, cmd, args, env = {}) => {
  process.stdout.write(`\n=== ${name}: ${[cmd, ...args].join(' ')}\n`);
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  const stage = { name, ok: r.status === 0, seconds: (Date.now() - t0) / 1000, passed: 0, failed: r.status === 0 ? 0 : 1, skipped: 0, skips: [] };
  stages.push(stage);
  return stage;
};

run('lint', 'npx', ['--no-install', 'eslint', '.']);
run('typecheck', process.execPath, ['scripts/typecheck.mjs']);
run('electron security check', process.execPath, ['scripts/electron-security-check.mjs']);
run('electronegativity (fails on high severity)', process.execPath, ['scripts/electronegativity.mjs']);

const vitest = run('vitest', 'npx', ['--no-install', 'vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=artifacts/vitest.json']);
if (existsSync('artifacts/vitest.json')) {
  const r = JSON.parse(readFileSync('artifacts/vitest.json', 'utf8'));
  Object.assign(vitest, { passed: r.numPassedTests, failed: r.numFailedTests + (vitest.ok ? 0 : r.numFailedTests ? 0 : 1), skipped: r.numPendingTests + r.numTodoTests });
  for (const file of r.testResults) for (const t of file.assertionResults) if (t.status === 'skipped' || t.status === 'pending') vitest.skips.push(`${t.fullName}`);
}

if (existsSync('playwright.config.ts')) {
  const e2e = run('playwright', 'npx', ['--no-install', 'playwright', 'test', '--reporter=list,json'], { PLAYWRIGHT_JSON_OUTPUT_FILE: 'artifacts/playwright.json', PLAYWRIGHT_JSON_OUTPUT_NAME: 'artifacts/playwright.json' });
  if (existsSync('artifacts/playwright.json')) {
    const r = JSON.parse(readFileSync('artifacts/playwright.json', 'utf8'));
    const s = r.stats ?? {};
    Object.assign(e2e, { passed: s.expected ?? 0, failed: (s.unexpected ?? 0) + (s.flaky ?? 0) + (e2e.ok || s.unexpected ? 0 : 1), skipped: s.skipped ?? 0 });
    const walk = (suite) => {
      for (const spec of suite.specs ?? []) for (const t of spec.tests ?? []) if (t.status === 'skipped') e2e.skips.push(`${spec.title}: ${(t.annotations ?? []).map((a) => a.description).filter(Boolean).join('; ') || 'skipped'}`);
      for (const s2 of suite.suites ?? []) walk(s2);
    };
    for (const s2 of r.suites ?? []) walk(s2);
  }
}

const total = { passed: 0, failed: 0, skipped: 0 };
process.stdout.write('\n=== summary\n');
for (const s of stages) {
  total.passed += s.passed;
  total.failed += s.failed;
  total.skipped += s.skipped;
  const counts = s.passed || s.skipped ? ` (${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped)` : '';
  process.stdout.write(`${s.ok ? 'ok  ' : 'FAIL'} ${s.name}${counts} in ${s.seconds.toFixed(0)} s\n`);
  for (const skip of s.skips) process.stdout.write(`     skipped: ${skip}\n`);
}
const failedStages = stages.filter((s) => !s.ok).length;
process.stdout.write(`\ntotal: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`);
process.exit(failedStages > 0 || total.failed > 0 ? 1 : 0);
