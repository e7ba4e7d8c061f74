export declare const CLASSES: readonly ['node', 'browser', 'shared', 'electron', 'tooling'];
export type DependencyClass = (typeof CLASSES)[number];
export declare const DEPENDENCY_CLASSES: Record<string, DependencyClass>;
export declare function packagesOf(...classes: DependencyClass[]): string[];
export declare function classificationProblems(
  pkg: { dependencies?: Record<string, string>; devDependencies?: Record<string, string> },
  classes?: Record<string, DependencyClass>,
): string[];
