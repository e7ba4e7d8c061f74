// The TypeScript split (tsconfig.base.json): the renderer compiles without Node's types and
// the Node side without the DOM's. A probe file is compiled, in memory, with each project's
// own options as if it were one of that project's files.
import { resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';
import { PROJECTS } from './typecheck.mjs';

// Library files (lib.*.d.ts, @types) parsed once for every probe, keyed by path and target.
const parsedFiles = new Map<string, ts.SourceFile | undefined>();

/** The errors of `code` compiled as `file` with the options of `project`. */
function errors(project: string, file: string, code: string): string[] {
  const parsed = ts.getParsedCommandLineOfConfigFile(resolve(project), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); } });
  if (!parsed) throw new Error(`cannot read ${project}`);
  const probe = resolve(file);
  const host = ts.createCompilerHost(parsed.options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) => {
    if (resolve(name) === probe) return ts.createSourceFile(name, code, lang);
    const key = `${resolve(name)}\0${JSON.stringify(lang)}`;
    if (!parsedFiles.has(key)) parsedFiles.set(key, getSourceFile(name, lang, ...rest));
    return parsedFiles.get(key);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => resolve(name) === probe || fileExists(name);
  const program = ts.createProgram({ rootNames: [probe], options: parsed.options, host });
  return ts.getPreEmitDiagnostics(program, program.getSourceFile(probe)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('TypeScript projects', () => {
  test('the renderer has the DOM and no Node types', () => {
    expect(errors('renderer/tsconfig.json', 'renderer/src/probe.ts', 'export const title: string = document.title;\nexport const ok = window.location.href;')).toEqual([]);
    expect(errors('renderer/tsconfig.json', 'renderer/src/probe.ts', 'export const mode = process.env.NODE_ENV;')).toEqual([expect.stringContaining("Cannot find name 'process'")]);
    expect(errors('renderer/tsconfig.json', 'renderer/src/probe.ts', "export const b = Buffer.from('x');")).toEqual([expect.stringContaining("Cannot find name 'Buffer'")]);
  });

  test('electron/shared compiles on both sides, so it can use neither', () => {
    expect(errors('renderer/tsconfig.json', 'electron/shared/probe.ts', "export const b = Buffer.from('x');")).not.toEqual([]);
    expect(errors('tsconfig.json', 'electron/shared/probe.ts', 'export const t = document.title;')).not.toEqual([]);
  });

  test.each(['electron/core/probe.ts', 'electron/main/probe.ts', 'electron/web/probe.ts', 'electron/cli/probe.ts', 'scripts/probe.ts'])('%s has Node and no DOM types', (file) => {
    expect(errors('tsconfig.json', file, "export const mode = process.env.NODE_ENV;\nexport const b = Buffer.from('x');")).toEqual([]);
    expect(errors('tsconfig.json', file, 'export const t = document.title;')).toEqual([expect.stringContaining("Cannot find name 'document'")]);
    expect(errors('tsconfig.json', file, 'export const w = window.location;')).toEqual([expect.stringContaining("Cannot find name 'window'")]);
  });

  test('the preload has the page\u2019s globals (its sandboxed context)', () => {
    expect(errors('electron/preload/tsconfig.json', 'electron/preload/probe.ts', 'export const t: string = document.title;')).toEqual([]);
  });

  test('every project the typecheck runs exists and includes files', () => {
    expect(PROJECTS).toContain('tsconfig.json');
    for (const project of PROJECTS) {
      const parsed = ts.getParsedCommandLineOfConfigFile(resolve(project), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
      expect(parsed?.fileNames.length, project).toBeGreaterThan(0);
      expect(parsed?.errors, project).toEqual([]);
    }
  });
});
