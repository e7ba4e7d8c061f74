import type { Rule } from 'eslint';

export interface TableOwner {
  owner: string;
  tables: readonly string[];
  models: readonly string[];
  relations: readonly string[];
  api: string;
}
export declare const TABLE_OWNERS: readonly TableOwner[];
export declare function tablesInSql(text: string): { table: string; owner: TableOwner }[];
export declare const tableOwnersRule: Rule.RuleModule;
export declare const noSqlInHandlersRule: Rule.RuleModule;
