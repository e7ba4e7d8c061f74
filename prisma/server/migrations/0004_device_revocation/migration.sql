-- 0004_device_revocation: a lost device revoked (electron/core/keys/deviceRevocation.ts).
--
-- device_revocation: one row per revoked device of a vault, append-only (a revoked device, which
--   connects as the same analyst role, cannot take its revocation back). proof = the device id
--   sealed with the vault key by the device that revoked it, so other devices can tell a real
--   revocation from one the server made up.
-- vault_key.from_day / until_day: the UTC days an epoch root serves (as in the local key
--   registry), so a root made by a rotation on one device reaches the others with its range
--   (electron/core/keys/syncKeys.ts). NULL = unbounded, as for every root before.
-- From the moment of revocation the server refuses every push of that device: its audit entries
--   and checkpoints, records and attachments (trigger refuse_revoked_device).

ALTER TABLE custody.vault_key ADD COLUMN from_day text, ADD COLUMN until_day text;

CREATE TABLE custody.device_revocation (
    vault_id uuid NOT NULL REFERENCES custody.vault (id) ON DELETE CASCADE,
    device_id uuid NOT NULL,
    revoked_by uuid NOT NULL,
    proof bytea NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT now(),
    owner text NOT NULL DEFAULT current_user,
    PRIMARY KEY (vault_id, device_id),
    FOREIGN KEY (vault_id, device_id) REFERENCES custody.device (vault_id, id)
);

CREATE TRIGGER device_revocation_append_only BEFORE UPDATE OR DELETE ON custody.device_revocation FOR EACH ROW EXECUTE FUNCTION custody.refuse_change();
CREATE TRIGGER device_revocation_no_truncate BEFORE TRUNCATE ON custody.device_revocation FOR EACH STATEMENT EXECUTE FUNCTION custody.refuse_change();

CREATE FUNCTION custody.refuse_revoked_device() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM custody.device_revocation r WHERE r.vault_id = NEW.vault_id AND r.device_id = NEW.device_id) THEN
        RAISE EXCEPTION 'device % of vault % was revoked: the server accepts nothing more from it', NEW.device_id, NEW.vault_id USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER audit_entry_revoked_device BEFORE INSERT ON custody.audit_entry FOR EACH ROW EXECUTE FUNCTION custody.refuse_revoked_device();
CREATE TRIGGER audit_checkpoint_revoked_device BEFORE INSERT ON custody.audit_checkpoint FOR EACH ROW EXECUTE FUNCTION custody.refuse_revoked_device();
CREATE TRIGGER record_revoked_device BEFORE INSERT OR UPDATE ON custody.record FOR EACH ROW EXECUTE FUNCTION custody.refuse_revoked_device();
CREATE TRIGGER attachment_revoked_device BEFORE INSERT ON custody.attachment FOR EACH ROW EXECUTE FUNCTION custody.refuse_revoked_device();

REVOKE UPDATE, DELETE, TRUNCATE ON custody.device_revocation FROM {{owner}};
GRANT SELECT, INSERT ON custody.device_revocation TO {{analyst}};
ALTER TABLE custody.device_revocation ENABLE ROW LEVEL SECURITY;
ALTER TABLE custody.device_revocation FORCE ROW LEVEL SECURITY;
CREATE POLICY device_revocation_owner ON custody.device_revocation USING (owner = current_user)
    WITH CHECK (owner = current_user AND EXISTS (SELECT 1 FROM custody.vault v WHERE v.id = vault_id AND v.owner = current_user));
