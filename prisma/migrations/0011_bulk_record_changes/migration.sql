-- A bulk import numbers its records in one statement at its end (numberInserted in
-- electron/core/records/changes.ts) instead of through the insert trigger row by row: the
-- trigger, a sub-program with an INSERT OR REPLACE and a max() each time, was about 40% of the
-- cost of inserting a record row. While the import's transaction holds a row in
-- record_change_hold the insert trigger stands aside; the import numbers every row it added
-- (the records with a rowid above the highest before it, in insertion order) and removes the
-- hold before it commits. The hold is never committed (a crash rolls it back with the rest),
-- so every other writer, in any process, still gets its numbers from the trigger.
CREATE TABLE "record_change_hold" (
    "held" INTEGER NOT NULL PRIMARY KEY
);

DROP TRIGGER "record_change_insert";

CREATE TRIGGER "record_change_insert" AFTER INSERT ON "record"
WHEN NOT EXISTS (SELECT 1 FROM "record_change_hold")
BEGIN
  INSERT OR REPLACE INTO "record_change" ("record_id", "seq") VALUES (NEW."id", (SELECT coalesce(max("seq"), 0) + 1 FROM "record_change"));
END;
