export declare function electronBinary(root?: string): { ok: true; path: string } | { ok: false; reason: string };
