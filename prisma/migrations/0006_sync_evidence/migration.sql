-- 0006_sync_evidence: what a pull needs to apply only changes another device signed for
-- (electron/core/sync/client/evidence.ts).
--
-- remote_record_event: the record events (updated, deleted, restored, purged) among the other
-- devices' audit entries pulled and checked here, indexed by record; a pulled edit, trash
-- change or purge is applied only if one of them, under a checkpoint verified here, backs it.
-- applied: a trash or restore entry already used once (a server replaying it is refused).
CREATE TABLE "remote_record_event" (
    "device_id" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "record_id" TEXT NOT NULL,
    "event" TEXT NOT NULL,
    "version" INTEGER,
    "applied" BOOLEAN NOT NULL DEFAULT false,

    PRIMARY KEY ("device_id", "seq"),
    CONSTRAINT "remote_record_event_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "remote_device" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "remote_record_event_record_id_idx" ON "remote_record_event"("record_id");

-- Entries pulled before this migration.
INSERT INTO "remote_record_event" ("device_id", "seq", "record_id", "event", "version")
SELECT "device_id", "seq", substr(json_extract("entry", '$.target'), 8), json_extract("entry", '$.event'), json_extract("entry", '$.details.version')
FROM "remote_audit_entry"
WHERE "entry" IS NOT NULL AND json_valid("entry")
  AND json_extract("entry", '$.event') IN ('record.updated', 'record.deleted', 'record.restored', 'record.purged')
  AND json_extract("entry", '$.target') LIKE 'record:%';

-- Server rows this device refused (kind: why; message: what the user is told), re-checked at
-- every sync until the server holds something acceptable again.
CREATE TABLE "sync_refusal" (
    "record_id" TEXT NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL,
    "message" TEXT NOT NULL,
    "seen_at" DATETIME NOT NULL
);
