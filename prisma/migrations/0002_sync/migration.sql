-- 0002_sync: local bookkeeping of the optional sync to PostgreSQL (see prisma/schema.prisma
-- and electron/core/sync).

CREATE TABLE "sync_state" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "value" TEXT NOT NULL
);

CREATE TABLE "sync_outbox" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "kind" TEXT NOT NULL,
    "target_id" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" DATETIME,
    "last_error" TEXT
);
CREATE INDEX "sync_outbox_kind_target_id_idx" ON "sync_outbox"("kind", "target_id");

CREATE TABLE "sync_record" (
    "record_id" TEXT NOT NULL PRIMARY KEY,
    "version" INTEGER NOT NULL,
    "deleted" BOOLEAN NOT NULL
);

CREATE TABLE "sync_conflict" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "record_id" TEXT NOT NULL,
    "base_version" INTEGER NOT NULL,
    "theirs_version" INTEGER,
    "fields" TEXT NOT NULL,
    "mine" BLOB NOT NULL,
    "theirs" BLOB,
    "status" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL,
    "resolved_at" DATETIME
);
CREATE INDEX "sync_conflict_status_idx" ON "sync_conflict"("status");

CREATE TABLE "remote_device" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "public_key" BLOB NOT NULL,
    "verified_size" INTEGER NOT NULL DEFAULT 0,
    "verified_root" BLOB,
    "problem" TEXT
);

CREATE TABLE "remote_audit_entry" (
    "device_id" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "time" DATETIME NOT NULL,
    "entry" TEXT,
    "leaf_hash" BLOB NOT NULL,

    PRIMARY KEY ("device_id", "seq"),
    CONSTRAINT "remote_audit_entry_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "remote_device" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- The outbox is written by triggers, so every local change to push (record created, edited,
-- trashed, restored or purged; attachment added) queues in the transaction that makes it,
-- whatever code path wrote it. Only once sync is configured (meta holds the sealed server
-- URL), and not while a pull applies the server's changes (it sets sync_state 'applying'
-- inside its own transaction).
CREATE TRIGGER "sync_outbox_record_insert" AFTER INSERT ON "record"
WHEN EXISTS (SELECT 1 FROM "meta" WHERE "key" = 'sync_url') AND NOT EXISTS (SELECT 1 FROM "sync_state" WHERE "key" = 'applying')
BEGIN
    INSERT INTO "sync_outbox" ("kind", "target_id", "created_at") VALUES ('record', NEW."id", CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER "sync_outbox_record_update" AFTER UPDATE ON "record"
WHEN EXISTS (SELECT 1 FROM "meta" WHERE "key" = 'sync_url') AND NOT EXISTS (SELECT 1 FROM "sync_state" WHERE "key" = 'applying')
BEGIN
    INSERT INTO "sync_outbox" ("kind", "target_id", "created_at") VALUES ('record', NEW."id", CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER "sync_outbox_record_delete" AFTER DELETE ON "record"
WHEN EXISTS (SELECT 1 FROM "meta" WHERE "key" = 'sync_url') AND NOT EXISTS (SELECT 1 FROM "sync_state" WHERE "key" = 'applying')
BEGIN
    INSERT INTO "sync_outbox" ("kind", "target_id", "created_at") VALUES ('purge', OLD."id", CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER "sync_outbox_attachment_insert" AFTER INSERT ON "attachment"
WHEN EXISTS (SELECT 1 FROM "meta" WHERE "key" = 'sync_url') AND NOT EXISTS (SELECT 1 FROM "sync_state" WHERE "key" = 'applying')
BEGIN
    INSERT INTO "sync_outbox" ("kind", "target_id", "created_at") VALUES ('attachment', NEW."id", CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
