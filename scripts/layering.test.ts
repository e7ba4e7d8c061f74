// The layering rule of DESIGN.md section 2 is enforced by eslint.config.js: prove it bites.
import { describe, expect, test } from 'vitest';
import { ESLint } from 'eslint';

const eslint = new ESLint();
async function violations(filePath: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath });
  return r!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
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
  ])('%s may not: %s', async (file, code) => {
    expect(await violations(file, code)).toHaveLength(1);
  });

  test.each([
    ['renderer/src/x.ts', "import type { RecordView } from '../../electron/shared/records.ts';"],
    ['renderer/src/x.ts', "import { create } from 'zustand';"],
    ['electron/core/x.ts', "import { z } from 'zod';\nimport { readFileSync } from 'node:fs';\nimport { CustodyError } from '../shared/errors.ts';"],
    ['electron/cli/x.ts', "import { Custody } from '../core/custody.ts';"],
    ['electron/main/x.ts', "import { app } from 'electron';"],
  ])('%s may: %s', async (file, code) => {
    expect(await violations(file, code)).toEqual([]);
  });
});
