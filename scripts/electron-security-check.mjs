// A static check of the Electron main process and preload for the high-severity settings
// Electronegativity looks for (until it is a devDependency): unsafe webPreferences, a missing
// CSP, shell.openExternal with non-constant input, no window-open handler, navigation not
// denied, no permission handler. Scans electron/main and electron/preload (sources) and the
// built out/main/index.js and out/preload/index.cjs when present, and the Electron fuses that
// electron-builder.yml flips at packaging. Exits 1 on any finding.
//   node scripts/electron-security-check.mjs [root]
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Settings that must never appear (per line). */
const LINE_RULES = [
  { id: 'NODE_INTEGRATION', re: /\bnodeIntegration(?:InWorker|InSubFrames)?\s*:\s*(?:true|!0)\b/, message: 'nodeIntegration enabled: the page could reach Node' },
  { id: 'CONTEXT_ISOLATION', re: /\bcontextIsolation\s*:\s*(?:false|!1)\b/, message: 'contextIsolation disabled: the page shares the preload’s world' },
  { id: 'SANDBOX', re: /\bsandbox\s*:\s*(?:false|!1)\b/, message: 'sandbox disabled for a renderer' },
  { id: 'WEB_SECURITY', re: /\bwebSecurity\s*:\s*(?:false|!1)\b/, message: 'webSecurity disabled (same-origin policy off)' },
  { id: 'INSECURE_CONTENT', re: /\ballowRunningInsecureContent\s*:\s*(?:true|!0)\b/, message: 'allowRunningInsecureContent enabled' },
  { id: 'EXPERIMENTAL_FEATURES', re: /\bexperimentalFeatures\s*:\s*(?:true|!0)\b/, message: 'experimental Blink features enabled' },
  { id: 'BLINK_FEATURES', re: /\benableBlinkFeatures\s*:/, message: 'enableBlinkFeatures used' },
  { id: 'WEBVIEW', re: /\bwebviewTag\s*:\s*(?:true|!0)\b/, message: '<webview> enabled' },
  { id: 'INSECURE_LOAD', re: /\.loadURL\(\s*['"`]http:\/\/(?!localhost|127\.0\.0\.1)/, message: 'a page loaded over plain http' },
  { id: 'OPEN_EXTERNAL', re: /\bopenExternal\s*\(\s*(?!(['"])[^'"`$]*\1\s*[,)])/, message: 'shell.openExternal with non-constant input (validate and allow-list URLs first)' },
  { id: 'DISABLE_CSP_BYPASS', re: /\bbypassCSP\s*:\s*(?:true|!0)\b/, message: 'a scheme registered with bypassCSP' },
];

/** Things the main process must do somewhere (per project). */
const REQUIRED = [
  { id: 'WINDOW_OPEN_HANDLER', re: /setWindowOpenHandler\s*\([\s\S]{0,160}?action\s*:\s*['"]deny['"]/, message: 'no setWindowOpenHandler that denies new windows' },
  { id: 'WILL_NAVIGATE', re: /['"]will-navigate['"]\s*,\s*\(?\s*\w*\s*\)?\s*=>\s*\w+\.preventDefault\(\)/, message: 'navigation is not denied (will-navigate → preventDefault)' },
  { id: 'CSP', re: /content-security-policy/i, message: 'no Content-Security-Policy is set on the renderer' },
  { id: 'PERMISSIONS', re: /setPermissionRequestHandler\s*\(/, message: 'no permission request handler (every permission would be granted)' },
  { id: 'CONTEXT_ISOLATION_SET', re: /\bcontextIsolation\s*:\s*(?:true|!0)\b/, message: 'contextIsolation is not set explicitly' },
  { id: 'SANDBOX_SET', re: /\bsandbox\s*:\s*(?:true|!0)\b|\benableSandbox\s*\(/, message: 'the renderer sandbox is not enabled explicitly' },
];

/** The fuses electron-builder.yml must set, and to what (Electron's security guide). */
export const REQUIRED_FUSES = {
  runAsNode: false,
  enableCookieEncryption: true,
  enableNodeOptionsEnvironmentVariable: false,
  enableNodeCliInspectArguments: false,
  enableEmbeddedAsarIntegrityValidation: true,
  onlyLoadAppFromAsar: true,
  grantFileProtocolExtraPrivileges: false,
};

/**
 * The `electronFuses:` block of electron-builder.yml as key -> boolean (a flat block of
 * `key: true|false` lines is all it holds; anything else there is reported as not a boolean).
 * @param {string} yml
 * @returns {Record<string, unknown> | null}
 */
export function parseFuses(yml) {
  const lines = yml.split(/\r?\n/);
  const start = lines.findIndex((l) => /^electronFuses:\s*(#.*)?$/.test(l));
  if (start < 0) return null;
  /** @type {Record<string, unknown>} */
  const fuses = {};
  for (const line of lines.slice(start + 1)) {
    if (/^\s*(#.*)?$/.test(line)) continue;
    const m = /^\s+([A-Za-z0-9]+):\s*([^#]*?)\s*(#.*)?$/.exec(line);
    if (!m) break; // the next top-level key
    fuses[m[1]] = m[2] === 'true' ? true : m[2] === 'false' ? false : m[2];
  }
  return fuses;
}

function checkFuses(root) {
  const file = join(root, 'electron-builder.yml');
  if (!existsSync(file)) return [{ id: 'FUSES', message: 'no electron-builder.yml: the Electron fuses are not set', file: 'electron-builder.yml' }];
  const fuses = parseFuses(readFileSync(file, 'utf8'));
  if (!fuses) return [{ id: 'FUSES', message: 'electron-builder.yml sets no electronFuses', file: 'electron-builder.yml' }];
  return Object.entries(REQUIRED_FUSES)
    .filter(([name, want]) => fuses[name] !== want)
    .map(([name, want]) => ({ id: `FUSE_${name}`, message: `the ${name} fuse must be ${want} (it is ${fuses[name] ?? 'not set'})`, file: 'electron-builder.yml' }));
}

function files(dir, test) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p, test) : test(p) ? [p] : [];
  });
}

/**
 * @param {string} root
 * @returns {{ id: string, message: string, file: string, line?: number }[]}
 */
export function scan(root) {
  const isSource = (p) => /\.(ts|mts|js|mjs|cjs)$/.test(p) && !/\.test\./.test(p);
  const groups = [
    { name: 'sources', files: [...files(join(root, 'electron/main'), isSource), ...files(join(root, 'electron/preload'), isSource)] },
    {
      name: 'build',
      files: existsSync(join(root, 'out/main/index.js'))
        ? [join(root, 'out/main/index.js'), ...files(join(root, 'out/main/chunks'), (p) => p.endsWith('.js')), ...files(join(root, 'out/preload'), (p) => /\.c?js$/.test(p))]
        : [],
    },
  ];
  const findings = [];
  for (const group of groups) {
    if (group.files.length === 0) continue;
    const texts = group.files.map((f) => ({ file: relative(root, f), text: readFileSync(f, 'utf8') }));
    for (const { file, text } of texts) {
      text.split('\n').forEach((line, i) => {
        if (/^\s*(\/\/|\*)/.test(line)) return;
        for (const rule of LINE_RULES) if (rule.re.test(line)) findings.push({ id: rule.id, message: rule.message, file, line: i + 1 });
      });
    }
    const all = texts.map((t) => t.text).join('\n');
    for (const rule of REQUIRED) if (!rule.re.test(all)) findings.push({ id: rule.id, message: rule.message, file: `(${group.name})` });
  }
  findings.push(...checkFuses(root));
  return findings;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = process.argv[2] ?? process.cwd();
  const findings = scan(root);
  for (const f of findings) console.error(`${f.file}${f.line ? `:${f.line}` : ''}  ${f.id}  ${f.message}`);
  if (findings.length) {
    console.error(`electron security check: ${findings.length} finding(s)`);
    process.exit(1);
  }
  console.log('electron security check: no findings');
}
