-- A record's data key is wrapped under the epoch key of epoch_day, and its format-2 ciphertext
-- binds captured_at (electron/core/records/codec.ts): the day must be the UTC day of captured_at,
-- and every read checks it. These triggers refuse a write that breaks the rule, so a bug cannot
-- store a row that no longer opens. They are not the defence against a folder writer, who can
-- drop them: the authenticated ciphertext is (a changed row fails as TAMPERED when read).
-- The day is computed in whole milliseconds (floor, also before 1970) as utcDay() does.
CREATE TRIGGER "record_epoch_day_insert" BEFORE INSERT ON "record"
WHEN NEW."epoch_day" IS NOT strftime('%Y-%m-%d', (NEW."captured_at" - ((NEW."captured_at" % 86400000) + 86400000) % 86400000) / 1000, 'unixepoch')
BEGIN
  SELECT RAISE(ABORT, 'record: epoch_day must be the UTC day of captured_at');
END;

CREATE TRIGGER "record_epoch_day_update" BEFORE UPDATE OF "captured_at", "epoch_day" ON "record"
WHEN NEW."epoch_day" IS NOT strftime('%Y-%m-%d', (NEW."captured_at" - ((NEW."captured_at" % 86400000) + 86400000) % 86400000) / 1000, 'unixepoch')
BEGIN
  SELECT RAISE(ABORT, 'record: epoch_day must be the UTC day of captured_at');
END;

CREATE TRIGGER "record_version_epoch_day_insert" BEFORE INSERT ON "record_version"
WHEN NEW."epoch_day" IS NOT strftime('%Y-%m-%d', (NEW."captured_at" - ((NEW."captured_at" % 86400000) + 86400000) % 86400000) / 1000, 'unixepoch')
BEGIN
  SELECT RAISE(ABORT, 'record_version: epoch_day must be the UTC day of captured_at');
END;

CREATE TRIGGER "record_version_epoch_day_update" BEFORE UPDATE OF "captured_at", "epoch_day" ON "record_version"
WHEN NEW."epoch_day" IS NOT strftime('%Y-%m-%d', (NEW."captured_at" - ((NEW."captured_at" % 86400000) + 86400000) % 86400000) / 1000, 'unixepoch')
BEGIN
  SELECT RAISE(ABORT, 'record_version: epoch_day must be the UTC day of captured_at');
END;
