// Doyensec's Electronegativity over the app's sources (main, preload, renderer): fails on any
// HIGH-severity finding. It scans one folder, so the sources are copied into a scratch folder
// together (the global checks need main and the renderer side by side). Offline it cannot
// fetch Electron's release list; it is told the Electron version instead.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const electronVersion = JSON.parse(readFileSync('node_modules/electron/package.json', 'utf8')).version;
const scratch = mkdtempSync(join(tmpdir(), 'custody-eneg-'));
const skip = (src) => !/\.test\.ts$|\/generated\/|\/testing\//.test(src);
try {
  for (const dir of ['electron/main', 'electron/preload', 'electron/shared', 'renderer/src']) cpSync(dir, join(scratch, dir), { recursive: true, filter: skip });
  cpSync('renderer/index.html', join(scratch, 'renderer/index.html'));
  mkdirSync('artifacts', { recursive: true });
  const csv = join(process.cwd(), 'artifacts', 'electronegativity.csv');
  const r = spawnSync(process.execPath, ['-r', './scripts/electronegativity-commander.cjs', 'node_modules/@doyensec/electronegativity/dist/index.js', '-i', scratch, '-e', electronVersion, '-r', '-v', 'false', '-o', csv], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(r.stdout, r.stderr);
    throw new Error(`electronegativity exited with ${r.status}`);
  }
  const rows = readFileSync(csv, 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => /^[A-Z_]+_CHECK,/.test(l))
    .map((l) => {
      const [check, severity, confidence, file, location] = l.split(',').map((c) => c.replace(/^"|"$/g, ''));
      return { check, severity, confidence, file, location };
    });
  const high = rows.filter((f) => f.severity === 'HIGH' || f.severity === 'CRITICAL');
  for (const f of rows) console.log(`${f.severity.padEnd(13)} ${f.check} ${f.file}:${f.location}`);
  console.log(`electronegativity: ${rows.length} finding(s), ${high.length} high (report: artifacts/electronegativity.csv)`);
  process.exitCode = high.length > 0 ? 1 : 0;
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
