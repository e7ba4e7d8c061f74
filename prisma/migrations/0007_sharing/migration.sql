-- 0007_sharing: the address book of reviewers' age recipients (electron/core/sharing/recipients.ts).
--
-- Names and notes are analyst text: they are only in `sealed` (AES-256-GCM under a key derived
-- from the vault key, bound to the row id), with the recipient. `name_tag` is an HMAC of the
-- name (normalised, lower case) under another key derived from the vault key: it keeps names
-- unique, case-insensitively, without storing them. `fingerprint` is the recipient's short
-- fingerprint (public, what audit entries name); one recipient is in the book once.
CREATE TABLE "recipient" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name_tag" BLOB NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "sealed" BLOB NOT NULL,
    "created_at" DATETIME NOT NULL,
    CHECK ("type" IN ('hybrid', 'x25519'))
);
CREATE UNIQUE INDEX "recipient_name_tag_key" ON "recipient"("name_tag");
CREATE UNIQUE INDEX "recipient_fingerprint_key" ON "recipient"("fingerprint");
