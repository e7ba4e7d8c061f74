// `npm run test:stress`: runs the whole suite (`npm test`) several times in a row while CPU
// hogs keep every core busy, as on a loaded CI machine or a newcomer's laptop doing other
// work. It stops at the first failing run and prints a summary; it exits 0 only if every run
// passed. Tests that race the wall clock fail here; they must wait for conditions instead.
//
//   npm run test:stress                          3 runs of `npm test`, one hog per core
//   npm run test:stress -- --runs 5 --hogs 4     5 runs, 4 hogs
//   npm run test:stress -- --runs 1 -- npx vitest run electron/core/reports
//                                                any other command instead of `npm test`
//
// The hogs are worker threads of this process spinning at normal priority (not niced): they
// compete with the tests for every core. They stop when the runs end or on Ctrl+C.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

function parseArgs(argv) {
  const sep = argv.indexOf('--');
  const own = sep < 0 ? argv : argv.slice(0, sep);
  const command = sep < 0 ? [] : argv.slice(sep + 1);
  const opts = { runs: 3, hogs: availableParallelism(), command: command.length ? command : ['npm', 'test'] };
  for (let i = 0; i < own.length; i++) {
    const [name, inline] = own[i].split('=', 2);
    const value = inline ?? own[++i];
    if (name !== '--runs' && name !== '--hogs') throw new Error(`unknown option ${own[i]} (see the top of scripts/stress.mjs)`);
    const n = Number(value);
    if (!Number.isInteger(n) || n < (name === '--runs' ? 1 : 0)) throw new Error(`${name} needs a whole number, not "${value}"`);
    opts[name.slice(2)] = n;
  }
  return opts;
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`test:stress: ${e.message}`);
  process.exit(2);
}

// Busy loops that never yield; the main thread stays free to run and watch the suite.
const hogs = Array.from({ length: opts.hogs }, () => new Worker('for (;;) {}', { eval: true }));
const stopHogs = () => Promise.all(hogs.map((w) => w.terminate()));

let current;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    current?.kill(sig);
    void stopHogs().finally(() => process.exit(130));
  });
}

const label = opts.command.join(' ');
process.stdout.write(`test:stress: ${opts.runs} run(s) of \`${label}\` with ${opts.hogs} CPU hog(s) on ${availableParallelism()} core(s)\n`);
const results = [];
for (let run = 1; run <= opts.runs; run++) {
  process.stdout.write(`\n=== test:stress run ${run}/${opts.runs}\n`);
  const t0 = Date.now();
  const code = await new Promise((resolve) => {
    current = spawn(opts.command[0], opts.command.slice(1), { stdio: 'inherit', shell: process.platform === 'win32' });
    current.on('error', (e) => {
      console.error(`test:stress: cannot run ${opts.command[0]}: ${e.message}`);
      resolve(127);
    });
    current.on('exit', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
  });
  results.push({ run, ok: code === 0, code, seconds: (Date.now() - t0) / 1000 });
  if (code !== 0) break;
}
await stopHogs();

process.stdout.write('\n=== test:stress summary\n');
for (const r of results) process.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'} run ${r.run} in ${r.seconds.toFixed(0)} s${r.ok ? '' : ` (exit ${r.code})`}\n`);
const passed = results.filter((r) => r.ok).length;
const allPassed = passed === opts.runs;
process.stdout.write(
  allPassed
    ? `${passed}/${opts.runs} runs passed under load\n`
    : `stopped after run ${results.length}: ${passed}/${opts.runs} runs passed under load\n`,
);
process.exit(allPassed ? 0 : 1);
