// The requests of dialog methods as main forwards them (protocol.ts, "call-with-files"): the
// renderer's request, checked by the same contract schema, plus the path(s) main's native
// dialog gave. Only main builds these; core checks them again because this is the last door
// before the file system: absolute paths, bounded, no NUL.
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { methods } from '../../shared/contract.ts';
import type { DialogMethod } from './protocol.ts';

const path = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes('\0'), 'a path may not hold NUL')
  .refine((p) => isAbsolute(p), 'an absolute path from the file dialog');

export const fileCalls = {
  'records.importFromDialog': methods['records.importFromDialog'].extend({ path }),
  'attachments.addFromDialog': methods['attachments.addFromDialog'].extend({ paths: z.array(path).min(1).max(1000) }),
  'attachments.saveToDialog': methods['attachments.saveToDialog'].extend({ path }),
  'reports.export': methods['reports.export'].extend({ path }),
  'sync.configure': methods['sync.configure'].extend({ path }),
} as const satisfies Record<DialogMethod, z.ZodType>;
