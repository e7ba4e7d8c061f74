export declare function sourcesNewest(root?: string): number;
export declare function isFresh(root?: string): boolean;
export declare function switchLink(root: string, target: string): void;
export declare function buildCli(opts?: { force?: boolean; env?: NodeJS.ProcessEnv }): boolean;
