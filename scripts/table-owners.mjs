// One owner per table (docs/architecture.md, "Who owns each table"): the lint rule
// custody/table-owners reports a file outside a table's owner module that names the table in
// SQL (a string or template literal) or reaches it through Prisma (the model accessor, e.g.
// `prisma.attachment.findMany`, or a relation in `include`/`select`). Other modules call the
// owner's typed API instead. Tests, test support and migrations (SQL files, not linted) may
// name any table. The server's tables (schema `custody.`) and the sync module's
// `remote_audit_entry` are other tables and are not matched.
// custody/no-sql-in-handlers: the API handlers (electron/core/api/) hold no SQL and no Prisma
// queries of their own; each query lives in the core module that owns its table.

/** @type {readonly { owner: string; tables: readonly string[]; models: readonly string[]; relations: readonly string[]; api: string }[]} */
export const TABLE_OWNERS = [
  {
    owner: 'electron/core/audit/',
    tables: ['audit_entry', 'audit_node', 'audit_checkpoint'],
    models: ['auditEntry', 'auditNode', 'auditCheckpoint'],
    relations: [],
    api: 'AuditReads (audit/reads.ts, on vault.audit): entriesBelow, entriesFrom, entryAt, entriesAbout, leafHashes, streamLeafHashes, lastEntryTime, hasEntry; Checkpoints (vault.checkpoints)',
  },
  {
    owner: 'electron/core/attachments/',
    tables: ['attachment'],
    models: ['attachment'],
    relations: ['attachments'],
    api: 'AttachmentRows (attachments/rows.ts) or Attachments (custody.attachments)',
  },
  {
    // Per-database settings and sealed values (sync URL, policies): read and set through vault/meta.ts.
    owner: 'electron/core/vault/',
    tables: ['meta'],
    models: ['meta'],
    relations: [],
    api: 'vault/meta.ts: metaValue, setMetaValue (in the caller\'s transaction), allMetaValues, readMeta, writeMeta',
  },
];

// A table named after a SQL keyword that takes one (FROM, JOIN, INTO, UPDATE, TABLE), bare,
// quoted or as main.<table>; `custody.<table>` (the server's) follows no such keyword directly.
const sqlRe = (table) => new RegExp(`\\b(FROM|JOIN|INTO|UPDATE|TABLE)\\s+(main\\.)?["\`\\[]?${table}(?![\\w.])`, 'i');
// The audit tables' names are no English words: any mention as an identifier counts (a comma
// join, a PRAGMA), except the server's (custody.audit_entry) and remote_audit_entry.
const identRe = (table) => new RegExp(`(?<![\\w.])${table}(?!\\w)`);
const PRISMA_METHOD_RE = /^(find|create|update|upsert|delete|count|aggregate|groupBy)/;

const relativePath = (context) => {
  const file = (context.filename ?? context.getFilename()).replace(/\\/g, '/');
  const cwd = (context.cwd ?? context.getCwd()).replace(/\\/g, '/');
  return file.startsWith(`${cwd}/`) ? file.slice(cwd.length + 1) : file;
};

/** The tables `text` names in SQL, each with its owner entry. */
export function tablesInSql(text) {
  const found = [];
  for (const o of TABLE_OWNERS)
    for (const t of o.tables) if (sqlRe(t).test(text) || (t.startsWith('audit_') && identRe(t).test(text))) found.push({ table: t, owner: o });
  return found;
}

export const tableOwnersRule = {
  meta: { type: 'problem', schema: [] },
  create(context) {
    const file = relativePath(context);
    const foreign = (o) => !file.startsWith(o.owner);
    const report = (node, what, o) => context.report({ node, message: `${what}: only ${o.owner} may read or write it; use ${o.api}.` });
    const checkText = (node, text) => {
      for (const { table, owner } of tablesInSql(text)) if (foreign(owner)) report(node, `SQL names the table ${table}`, owner);
    };
    return {
      Literal(node) {
        if (typeof node.value === 'string') checkText(node, node.value);
      },
      TemplateLiteral(node) {
        checkText(node, node.quasis.map((q) => q.value.cooked ?? q.value.raw).join(' '));
      },
      MemberExpression(node) {
        if (node.computed || node.property.type !== 'Identifier') return;
        const parent = node.parent;
        const method = parent?.type === 'MemberExpression' && parent.object === node && !parent.computed && parent.property.type === 'Identifier' ? parent.property.name : '';
        if (!PRISMA_METHOD_RE.test(method)) return;
        for (const o of TABLE_OWNERS) if (o.models.includes(node.property.name) && foreign(o)) report(node, `Prisma's ${node.property.name}.${method} reaches the ${o.tables[0]} table`, o);
      },
      Property(node) {
        // { include: { attachments: … } } or { select: { attachments: … } }: the table through a relation.
        const key = node.key?.type === 'Identifier' ? node.key.name : typeof node.key?.value === 'string' ? node.key.value : undefined;
        const holder = node.parent?.parent;
        if (!key || holder?.type !== 'Property') return;
        const holderKey = holder.key?.type === 'Identifier' ? holder.key.name : holder.key?.value;
        if (holderKey !== 'include' && holderKey !== 'select') return;
        for (const o of TABLE_OWNERS) if (o.relations.includes(key) && foreign(o)) report(node, `Prisma's ${holderKey} of ${key} reaches the ${o.tables[0]} table`, o);
      },
    };
  },
};

// SQL as it starts a statement string ('SELECT …', `INSERT …`: upper case, so 'Select a file' is
// not), and Prisma's client or raw queries.
const SQL_STATEMENT_RE = /^\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|WITH|CREATE|DROP|ALTER|PRAGMA|VACUUM|BEGIN)\s/;
const PRISMA_MEMBER_RE = /^(prisma|\$queryRaw|\$queryRawUnsafe|\$executeRaw|\$executeRawUnsafe|\$transaction)$/;

export const noSqlInHandlersRule = {
  meta: { type: 'problem', schema: [] },
  create(context) {
    const message = 'API handlers hold no SQL or Prisma queries: move the query into the core module that owns the table and call it.';
    return {
      Literal(node) {
        if (typeof node.value === 'string' && SQL_STATEMENT_RE.test(node.value)) context.report({ node, message });
      },
      TemplateLiteral(node) {
        if (SQL_STATEMENT_RE.test(node.quasis[0]?.value.cooked ?? '')) context.report({ node, message });
      },
      MemberExpression(node) {
        if (!node.computed && node.property.type === 'Identifier' && PRISMA_MEMBER_RE.test(node.property.name)) context.report({ node, message });
      },
    };
  },
};
