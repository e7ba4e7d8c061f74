-- 0009_key_lifecycle: key rotation (electron/core/keys/).
-- from_day / until_day: the UTC days an epoch root serves (NULL = unbounded on that side).
-- Keyring.epochKey(day) takes the newest root whose range holds the day, so a root made by
-- "custody keys rotate epoch-root --from DAY" serves DAY onwards and older days keep theirs;
-- a root made by "custody keys rotate record-keys" grows its until_day one day at a time, in
-- the transaction that re-encrypts that day's records (a crash leaves each day whole).
-- replaces: the key this one replaced (rotation history shown by "custody keys").
ALTER TABLE "key_registry" ADD COLUMN "from_day" TEXT;
ALTER TABLE "key_registry" ADD COLUMN "until_day" TEXT;
ALTER TABLE "key_registry" ADD COLUMN "replaces" TEXT;

-- A re-encryption of records under new data keys, resumable after a crash: done_through is
-- the last day finished (committed with that day's records).
CREATE TABLE "key_job" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL,
    "key_id" TEXT NOT NULL,
    "from_day" TEXT NOT NULL,
    "until_day" TEXT NOT NULL,
    "done_through" TEXT,
    "records_done" INTEGER NOT NULL DEFAULT 0,
    "started_at" DATETIME NOT NULL,
    "finished_at" DATETIME
);
