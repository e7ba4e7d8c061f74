// The layering rule of docs/architecture.md ("Layers and what each may import") is enforced by eslint.config.js: prove it bites.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, test } from 'vitest';
import { ESLint } from 'eslint';
import { classificationProblems, DEPENDENCY_CLASSES } from './dependency-classes.mjs';

const LAYERING_RULES = new Set(['no-restricted-imports', '@typescript-eslint/no-restricted-imports', 'no-restricted-syntax']);
const eslint = new ESLint();
/** The layering messages for `code` linted as if it were at `filePath` (a virtual file). */
async function violations(filePath: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath });
  return r!.messages.filter((m) => m.ruleId !== null && LAYERING_RULES.has(m.ruleId)).map((m) => m.message);
}

describe('layering lint rule', () => {
  test.each([
    ['renderer/src/x.ts', "import { readFileSync } from 'node:fs';"],
    ['renderer/src/x.ts', "import fs from 'fs';"],
    ['renderer/src/x.ts', "import { ipcRenderer } from 'electron';"],
    ['renderer/src/x.ts', "import { Custody } from '../../electron/core/custody.ts';"],
    ['renderer/src/x.ts', "import { x } from '../../electron/main/index.ts';"],
    ['electron/core/x.ts', "import { app } from 'electron';"],
    ['electron/core/x.ts', "import { x } from '../main/index.ts';"],
    ['electron/core/x.ts', "import React from 'react';"],
    ['electron/shared/x.ts', "import { createHash } from 'node:crypto';"],
    ['electron/shared/x.ts', "import { Custody } from '../core/custody.ts';"],
    ['electron/cli/x.ts', "import { BrowserWindow } from 'electron';"],
    ['electron/preload/x.ts', "import { Custody } from '../core/custody.ts';"],
    // Gap: the renderer could import Node packages.
    ['renderer/src/x.ts', "import Database from 'better-sqlite3';"],
    ['renderer/src/x.ts', "import pg from 'pg';"],
    ['renderer/src/x.tsx', "import argon2 from 'argon2';"],
    ['renderer/src/x.ts', "import forge from 'node-forge';"],
    ['renderer/src/x.ts', "import { PDFDocument } from 'pdf-lib';"],
    ['renderer/src/x.ts', "import { test } from 'vitest';"],
    // Gap: shared could import Node packages (only schema libraries are allowed).
    ['electron/shared/x.ts', "import argon2 from 'argon2';"],
    ['electron/shared/x.ts', "import forge from 'node-forge';"],
    ['electron/shared/x.ts', "import pg from 'pg';"],
    ['electron/shared/x.ts', "import { create } from 'zustand';"],
    // Gap: core could load electron at run time.
    ['electron/core/x.ts', "export const load = async () => await import('electron');"],
    ['electron/core/x.ts', 'export const load = () => import(`electron`);'],
    ['electron/core/x.ts', "export const load = () => import('electron/main');"],
    ['electron/core/x.ts', "export const e = require('electron');"],
    ['electron/core/x.ts', "export const load = () => import('../main/index.ts');"],
    ['electron/core/x.ts', "import { test } from 'vitest';"],
    // Gap: electron/main had no rule: the database on the UI thread.
    ['electron/main/x.ts', "import { Custody } from '../core/custody.ts';"],
    ['electron/main/x.ts', "import { openDatabase } from '../core/db/database.ts';"],
    ['electron/main/x.ts', "import { RecordStore } from '../core/records/recordStore.ts';"],
    ['electron/main/x.ts', "import { AuditLog } from '../core/audit/log.ts';"],
    ['electron/main/x.ts', "import { createCore } from '../core/api/handlers.ts';"],
    ['electron/main/x.ts', "import { Custody } from '../../electron/core/custody.ts';"],
    ['electron/main/x.ts', "export const load = () => import('../core/custody.ts');"],
    ['electron/main/x.ts', "import Database from 'better-sqlite3';"],
    ['electron/main/x.ts', "import pg from 'pg';"],
    ['electron/main/x.ts', "import argon2 from 'argon2';"],
    ['electron/main/x.ts', "import { x } from '../cli/main.ts';"],
    ['electron/main/x.ts', "import { x } from '../../renderer/src/App.tsx';"],
    // The web shell beside main: the same, and no electron.
    ['electron/web/x.ts', "import { app } from 'electron';"],
    ['electron/web/x.ts', "import { Custody } from '../core/custody.ts';"],
    ['electron/web/x.ts', "export const load = () => import('electron');"],
    ['electron/web/x.ts', "export const e = require('electron');"],
    ['electron/web/x.ts', "import Database from 'better-sqlite3';"],
    ['electron/web/x.test.ts', "import { BrowserWindow } from 'electron';"],
    // Gap: the web shell could reach electron through Electron's own main modules.
    ['electron/web/x.ts', "import { x } from '../main/index.ts';"],
    ['electron/web/x.ts', "import { electronDialogs } from '../main/dialogs.ts';"],
    ['electron/web/x.ts', "import { buildMenu } from '../../electron/main/menu.ts';"],
    ['electron/web/x.ts', "export const load = () => import('../main/index.ts');"],
    ['electron/web/x.test.ts', "import { electronDialogs } from '../main/dialogs.ts';"],
    // Main is one shell; it does not start the other.
    ['electron/main/x.ts', "import { startWebShell } from '../web/webShell.ts';"],
    ['electron/preload/x.ts', "import forge from 'node-forge';"],
    ['electron/preload/x.ts', "import React from 'react';"],
  ])('%s may not: %s', async (file, code) => {
    expect(await violations(file, code)).toHaveLength(1);
  });

  test.each([
    ['renderer/src/x.ts', "import type { RecordView } from '../../electron/shared/records.ts';"],
    ['renderer/src/x.ts', "import { create } from 'zustand';"],
    ['renderer/src/x.tsx', "import { createRoot } from 'react-dom/client';"],
    ['renderer/src/x.test.ts', "import { expect } from 'vitest';"],
    ['electron/shared/x.ts', "import { z } from 'zod';"],
    ['electron/core/x.ts', "import { z } from 'zod';\nimport { readFileSync } from 'node:fs';\nimport { CustodyError } from '../shared/errors.ts';"],
    ['electron/core/x.ts', "import Database from 'better-sqlite3';\nexport const load = () => import('./pdf/sign.ts');"],
    ['electron/core/x.test.ts', "import { expect } from 'vitest';"],
    ['electron/cli/x.ts', "import { Custody } from '../core/custody.ts';"],
    ['electron/main/x.ts', "import { app } from 'electron';"],
    ['electron/main/x.ts', "import type { Custody } from '../core/custody.ts';\nimport type { CoreApi } from '../core/api/handlers.ts';"],
    ['electron/main/x.ts', "import { settingsFileFor } from '../core/api/settings.ts';\nimport { defaultVaultDir } from '../core/vault/location.ts';"],
    ['electron/main/x.ts', "import { UPLOAD_WINDOW } from '../core/api/protocol.ts';\nimport { badRequestMessage } from '../shared/schemaIssues.ts';"],
    ['electron/main/x.ts', "import { Worker } from 'node:worker_threads';"],
    ['electron/main/x.test.ts', "import { createCore } from '../core/api/handlers.ts';"],
    ['electron/web/x.ts', "import { createServer } from 'node:http';\nimport { settingsFileFor } from '../core/api/settings.ts';"],
    ['electron/web/x.ts', "import { CoreHost } from '../main/coreHost.ts';\nimport { SECURITY_HEADERS } from '../main/csp.ts';\nimport { dispatch } from '../main/dispatch.ts';\nimport { Session } from '../main/session.ts';\nimport { resolveStatic } from '../main/staticFiles.ts';"],
    ['electron/web/x.test.ts', "import { createCore } from '../core/api/handlers.ts';"],
    ['electron/preload/x.ts', "import { contextBridge } from 'electron';"],
  ])('%s may: %s', async (file, code) => {
    expect(await violations(file, code)).toEqual([]);
  });
});

describe('dependency classes', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
  const dir = mkdtempSync(join(tmpdir(), 'custody-layering-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Lint messages on scripts/dependency-classes.mjs against the package.json at `packageJson`. */
  async function classMessages(packageJson: string): Promise<string[]> {
    const linter = new ESLint({ overrideConfig: { files: ['scripts/dependency-classes.mjs'], rules: { 'custody/dependency-classes': ['error', { packageJson }] } } });
    const [r] = await linter.lintText(readFileSync('scripts/dependency-classes.mjs', 'utf8'), { filePath: 'scripts/dependency-classes.mjs' });
    return r!.messages.map((m) => `${m.ruleId}: ${m.message}`);
  }

  test('every dependency of package.json has a class, and every class entry is a dependency', async () => {
    expect(classificationProblems(pkg)).toEqual([]);
    expect(await classMessages(join(process.cwd(), 'package.json'))).toEqual([]);
  });

  test('an uncategorised dependency is a lint error', async () => {
    const file = join(dir, 'package.json');
    writeFileSync(file, JSON.stringify({ ...pkg, dependencies: { ...pkg.dependencies, 'left-pad': '^1.3.0' } }));
    expect(await classMessages(file)).toEqual([
      'custody/dependency-classes: package.json dependency "left-pad" has no class in scripts/dependency-classes.mjs (node | browser | shared | electron | tooling)',
    ]);
  });

  test('a class entry package.json no longer has is reported too', () => {
    const { zod: _zod, ...rest } = pkg.dependencies;
    expect(classificationProblems({ ...pkg, dependencies: rest })).toEqual(['"zod" is classified but package.json does not depend on it']);
    expect(classificationProblems(pkg, { ...DEPENDENCY_CLASSES, zod: 'anywhere' as 'shared' })).toEqual(['"zod" has an unknown class "anywhere" (node | browser | shared | electron | tooling)']);
  });
});

describe('the web shell never loads electron', () => {
  /** The modules `file` loads at run time: static imports and re-exports (type-only ones aside), import() and require() of a literal. */
  function runtimeImports(file: string): string[] {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const found: string[] = [];
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        const c = node.importClause;
        const typeOnly = !!c && (c.isTypeOnly || (!c.name && !!c.namedBindings && ts.isNamedImports(c.namedBindings) && c.namedBindings.elements.length > 0 && c.namedBindings.elements.every((e) => e.isTypeOnly)));
        if (!typeOnly) found.push(node.moduleSpecifier.text);
      } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        if (!node.isTypeOnly) found.push(node.moduleSpecifier.text);
      } else if (ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) {
        const [arg] = node.arguments;
        if (arg && ts.isStringLiteralLike(arg)) found.push(arg.text);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    return found;
  }

  /** Every package `entry` loads, through any chain of relative imports, with the chain that leads to it. */
  function packagesLoadedBy(entry: string): Map<string, string[]> {
    const packages = new Map<string, string[]>();
    const seen = new Set<string>();
    const walk = (file: string, chain: string[]): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of runtimeImports(file)) {
        if (spec.startsWith('.')) walk(resolve(dirname(file), spec), [...chain, relative(process.cwd(), file)]);
        else if (!packages.has(spec)) packages.set(spec, [...chain, relative(process.cwd(), file)]);
      }
    };
    walk(resolve(entry), []);
    return packages;
  }
  const electronIn = (packages: Map<string, string[]>) => [...packages].filter(([name]) => /^electron(\/|$)/.test(name)).map(([name, chain]) => `${chain.join(' -> ')} -> ${name}`);

  test('no module the web shell loads imports electron, however indirectly', () => {
    const entries = readdirSync('electron/web').filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(entries).toContain('index.ts');
    for (const f of entries) expect(electronIn(packagesLoadedBy(join('electron/web', f))), f).toEqual([]);
  });

  test('the walk finds electron behind a chain of imports, and skips type-only ones', () => {
    expect(electronIn(packagesLoadedBy('electron/main/index.ts'))).toContain('electron/main/index.ts -> electron');
    const dir = mkdtempSync(join(tmpdir(), 'custody-web-walk-'));
    try {
      writeFileSync(join(dir, 'entry.ts'), "import type { X } from './typesOnly.ts';\nimport { y } from './shared.ts';\nexport const z = [y] as X[];\n");
      writeFileSync(join(dir, 'typesOnly.ts'), "import { app } from 'electron';\nexport type X = typeof app;\n");
      writeFileSync(join(dir, 'shared.ts'), "export const y = () => import('./deeper.ts');\n");
      writeFileSync(join(dir, 'deeper.ts'), "export { dialog } from 'electron/main';\n");
      const rel = (f: string) => relative(process.cwd(), join(dir, f));
      expect(electronIn(packagesLoadedBy(join(dir, 'entry.ts')))).toEqual([`${rel('entry.ts')} -> ${rel('shared.ts')} -> ${rel('deeper.ts')} -> electron/main`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
