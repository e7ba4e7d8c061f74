-- A change counter for records, kept by the database itself: every insert, update or delete of a
-- record row (an edit, a delete or restore, a purge, a day move, an import, a sync pull), from
-- any process, moves the record to the next number in the same transaction. A reader that saw
-- number N asks for the records with a higher one ("what changed since N"): the persisted search
-- index applies them at unlock, and each process open on the vault catches up with the others'
-- writes this way (electron/core/records/changes.ts). One row per record, its last change; a
-- purged record keeps its row, so its removal is seen too. The counter is the highest seq.
CREATE TABLE "record_change" (
    "record_id" TEXT NOT NULL PRIMARY KEY,
    "seq" INTEGER NOT NULL
);

CREATE UNIQUE INDEX "record_change_seq_key" ON "record_change"("seq");

CREATE TRIGGER "record_change_insert" AFTER INSERT ON "record"
BEGIN
  INSERT OR REPLACE INTO "record_change" ("record_id", "seq") VALUES (NEW."id", (SELECT coalesce(max("seq"), 0) + 1 FROM "record_change"));
END;

CREATE TRIGGER "record_change_update" AFTER UPDATE ON "record"
BEGIN
  INSERT OR REPLACE INTO "record_change" ("record_id", "seq") VALUES (NEW."id", (SELECT coalesce(max("seq"), 0) + 1 FROM "record_change"));
END;

CREATE TRIGGER "record_change_delete" AFTER DELETE ON "record"
BEGIN
  INSERT OR REPLACE INTO "record_change" ("record_id", "seq") VALUES (OLD."id", (SELECT coalesce(max("seq"), 0) + 1 FROM "record_change"));
END;

-- Records of a vault made before this migration count as changed once, in id order.
INSERT INTO "record_change" ("record_id", "seq") SELECT "id", row_number() OVER (ORDER BY "id") FROM "record";
