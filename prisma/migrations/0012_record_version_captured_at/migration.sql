-- Rotating the record keys re-encrypts the vault one UTC day at a time, each day's records and
-- their earlier versions (electron/core/keys/recordKeys.ts). Without an index on captured_at,
-- each day read the whole record_version table: a year's rotation read it 365 times. Found
-- by the index-use test (electron/core/db/indexUse.test.ts), which now names both queries.
CREATE INDEX "record_version_captured_at_idx" ON "record_version"("captured_at");
