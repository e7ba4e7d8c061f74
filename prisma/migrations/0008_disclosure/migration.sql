-- 0008_disclosure: delegated disclosure (electron/core/sharing/): what this vault issued, the
-- acknowledgements it imported, and the read-only received area of packages it opened.
-- Nothing a person wrote is in the clear here: purposes, filters (case names, tags) and received
-- records are sealed with a key derived from the vault key.

-- grant_issued: one row per disclosure package issued (custody grants list|show).
-- recipients: JSON array of the recipients' fingerprints; grant_sha256: SHA-256 of the signed
-- grant statement (what an acknowledgement signs); sealed: purpose, filters, recipients.
CREATE TABLE "grant_issued" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "created_at" DATETIME NOT NULL,
    "expires_at" DATETIME,
    "from_day" TEXT NOT NULL,
    "until_day" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "records" INTEGER NOT NULL,
    "recipients" TEXT NOT NULL,
    "package_sha256" TEXT NOT NULL,
    "grant_sha256" TEXT NOT NULL,
    "sealed" BLOB NOT NULL
);

-- grant_ack: acknowledgements of receipt, each a signed note by the reviewer's device key over
-- the grant's hash (kept as received, so it can be shown to anyone).
CREATE TABLE "grant_ack" (
    "grant_id" TEXT NOT NULL,
    "reviewer_key" TEXT NOT NULL,
    "acknowledged_at" DATETIME NOT NULL,
    "imported_at" DATETIME NOT NULL,
    "note" TEXT NOT NULL,

    PRIMARY KEY ("grant_id", "reviewer_key"),
    CONSTRAINT "grant_ack_grant_id_fkey" FOREIGN KEY ("grant_id") REFERENCES "grant_issued" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- received_grant: a package opened and verified here. sealed: its grant statement (purpose
-- included) and what was verified; the columns in the clear are what listing and expiry need.
CREATE TABLE "received_grant" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "issuer_vault_id" TEXT NOT NULL,
    "issuer_key" TEXT NOT NULL,
    "received_at" DATETIME NOT NULL,
    "expires_at" DATETIME,
    "from_day" TEXT NOT NULL,
    "until_day" TEXT NOT NULL,
    "records" INTEGER NOT NULL,
    "grant_sha256" TEXT NOT NULL,
    "sealed" BLOB NOT NULL
);

-- received_record: a received record's decrypted content (and history), sealed with this vault's key.
CREATE TABLE "received_record" (
    "grant_id" TEXT NOT NULL,
    "record_id" TEXT NOT NULL,
    "sealed" BLOB NOT NULL,

    PRIMARY KEY ("grant_id", "record_id"),
    CONSTRAINT "received_record_grant_id_fkey" FOREIGN KEY ("grant_id") REFERENCES "received_grant" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- received_attachment: the attachment's chunked ciphertext as the issuer stored it, with its key
-- and metadata sealed with this vault's key.
CREATE TABLE "received_attachment" (
    "grant_id" TEXT NOT NULL,
    "id" TEXT NOT NULL,
    "record_id" TEXT NOT NULL,
    "sealed_key" BLOB NOT NULL,
    "blob" BLOB NOT NULL,

    PRIMARY KEY ("grant_id", "id"),
    CONSTRAINT "received_attachment_grant_id_fkey" FOREIGN KEY ("grant_id") REFERENCES "received_grant" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
