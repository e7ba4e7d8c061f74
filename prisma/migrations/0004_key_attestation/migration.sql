-- 0004_key_attestation: a device signing key's public key bound to the vault key
-- (electron/core/vault/attestation.ts): HMAC-SHA-256, under a key derived from the vault key,
-- over the vault id, the key id and the public key. Checked at every unlock; only a holder of
-- the vault key can make one, so a folder writer cannot swap in a key of their own. NULL for
-- keys of vaults made before this migration: the first unlock after the upgrade creates it
-- (audited as key.attested) once the public key matched the unwrapped seed.
ALTER TABLE "key_registry" ADD COLUMN "attestation" BLOB;
