-- 0001_init: the local vault schema (see prisma/schema.prisma).

CREATE TABLE "meta" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "value" TEXT NOT NULL
);

CREATE TABLE "key_registry" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL,
    "algorithm" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL,
    "rotated_at" DATETIME,
    "expires_at" DATETIME,
    "fingerprint" TEXT NOT NULL,
    "usage_count" INTEGER NOT NULL DEFAULT 0,
    "public_key" BLOB,
    "wrapped" BLOB
);
CREATE INDEX "key_registry_kind_status_idx" ON "key_registry"("kind", "status");

CREATE TABLE "record" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL,
    "captured_at" DATETIME NOT NULL,
    "epoch_day" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL,
    "updated_at" DATETIME NOT NULL,
    "version" INTEGER NOT NULL,
    "deleted_at" DATETIME,
    "wrapped_dek" BLOB NOT NULL,
    "summary" BLOB NOT NULL,
    "content" BLOB NOT NULL
);
CREATE INDEX "record_captured_at_idx" ON "record"("captured_at");
CREATE INDEX "record_deleted_at_idx" ON "record"("deleted_at");

CREATE TABLE "record_version" (
    "record_id" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "captured_at" DATETIME NOT NULL,
    "epoch_day" TEXT NOT NULL,
    "saved_at" DATETIME NOT NULL,
    "wrapped_dek" BLOB NOT NULL,
    "summary" BLOB NOT NULL,
    "content" BLOB NOT NULL,

    PRIMARY KEY ("record_id", "version"),
    CONSTRAINT "record_version_record_id_fkey" FOREIGN KEY ("record_id") REFERENCES "record" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE "attachment" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "record_id" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL,
    "wrapped_key" BLOB NOT NULL,
    "meta" BLOB NOT NULL,
    CONSTRAINT "attachment_record_id_fkey" FOREIGN KEY ("record_id") REFERENCES "record" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "attachment_record_id_idx" ON "attachment"("record_id");

CREATE TABLE "audit_entry" (
    "seq" INTEGER NOT NULL PRIMARY KEY,
    "time" DATETIME NOT NULL,
    "event" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "target" TEXT,
    "success" BOOLEAN NOT NULL,
    "entry" TEXT,
    "leaf_hash" BLOB NOT NULL,
    "pruned_at" DATETIME
);
CREATE INDEX "audit_entry_time_idx" ON "audit_entry"("time");
CREATE INDEX "audit_entry_event_time_idx" ON "audit_entry"("event", "time");
CREATE INDEX "audit_entry_target_idx" ON "audit_entry"("target");

CREATE TABLE "audit_node" (
    "level" INTEGER NOT NULL,
    "idx" INTEGER NOT NULL,
    "hash" BLOB NOT NULL,

    PRIMARY KEY ("level", "idx")
);

CREATE TABLE "audit_checkpoint" (
    "size" INTEGER NOT NULL PRIMARY KEY,
    "root_hash" BLOB NOT NULL,
    "note" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL,
    "reason" TEXT NOT NULL
);
