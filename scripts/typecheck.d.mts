export declare const PROJECTS: readonly string[];
