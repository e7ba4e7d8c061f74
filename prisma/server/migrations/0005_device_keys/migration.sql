-- 0005_device_keys: per-device encryption keys and vault key rotation on a synced vault
-- (electron/core/keys/deviceIdentity.ts, vaultKeyEnvelopes.ts; docs/keys.md "Devices and revocation").
--
-- device_recipient: each device's age recipient (mlkem768x25519, age1pq1...), one per device,
--   signed by the device's Ed25519 key registered in custody.device (itself attested by the vault
--   key), so a server cannot publish a recipient of its own for a device. Append-only.
-- vault_key_envelope: after a vault key rotation, the new vault key as an age file to each
--   remaining device's recipient, signed by the rotating device's key. One row per (new key,
--   device). Append-only. A revoked device can neither publish nor be sent one.
-- vault_header: vault.json as it stands after each vault key rotation (the password and
--   recovery wrappings of the new key), for joining a vault whose key was rotated.
-- As for every table: a row is visible to and writable by the role that wrote it only.

CREATE TABLE custody.device_recipient (
    vault_id uuid NOT NULL REFERENCES custody.vault (id) ON DELETE CASCADE,
    device_id uuid NOT NULL,
    recipient text NOT NULL CHECK (recipient ~ '^age1pq1[0-9a-z]+$'),
    signature bytea NOT NULL CHECK (octet_length(signature) = 64),
    registered_at timestamptz NOT NULL DEFAULT now(),
    owner text NOT NULL DEFAULT current_user,
    PRIMARY KEY (vault_id, device_id),
    FOREIGN KEY (vault_id, device_id) REFERENCES custody.device (vault_id, id)
);

CREATE TABLE custody.vault_key_envelope (
    vault_id uuid NOT NULL REFERENCES custody.vault (id) ON DELETE CASCADE,
    key_id uuid NOT NULL,
    device_id uuid NOT NULL,
    from_device uuid NOT NULL,
    previous text NOT NULL,
    fingerprint text NOT NULL,
    package bytea NOT NULL CHECK (octet_length(package) <= 65536),
    signature bytea NOT NULL CHECK (octet_length(signature) = 64),
    created_at timestamptz NOT NULL DEFAULT now(),
    owner text NOT NULL DEFAULT current_user,
    PRIMARY KEY (vault_id, key_id, device_id),
    FOREIGN KEY (vault_id, device_id) REFERENCES custody.device (vault_id, id),
    FOREIGN KEY (vault_id, from_device) REFERENCES custody.device (vault_id, id)
);
CREATE INDEX vault_key_envelope_device_idx ON custody.vault_key_envelope (vault_id, device_id, created_at);

CREATE TABLE custody.vault_header (
    vault_id uuid NOT NULL REFERENCES custody.vault (id) ON DELETE CASCADE,
    key_id uuid NOT NULL,
    header text NOT NULL CHECK (octet_length(header) <= 65536),
    created_at timestamptz NOT NULL DEFAULT now(),
    owner text NOT NULL DEFAULT current_user,
    PRIMARY KEY (vault_id, key_id)
);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['device_recipient', 'vault_key_envelope', 'vault_header'] LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON custody.%I FOR EACH ROW EXECUTE FUNCTION custody.refuse_change()', t || '_append_only', t);
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON custody.%I FOR EACH STATEMENT EXECUTE FUNCTION custody.refuse_change()', t || '_no_truncate', t);
        EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON custody.%I FROM {{owner}}', t);
        EXECUTE format('GRANT SELECT, INSERT ON custody.%I TO {{analyst}}', t);
        EXECUTE format('ALTER TABLE custody.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE custody.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY %I ON custody.%I USING (owner = current_user) WITH CHECK (owner = current_user AND EXISTS (SELECT 1 FROM custody.vault v WHERE v.id = vault_id AND v.owner = current_user))', t || '_owner', t);
    END LOOP;
END
$$;

-- A revoked device publishes no recipient (refuse_revoked_device checks NEW.device_id).
CREATE TRIGGER device_recipient_revoked_device BEFORE INSERT ON custody.device_recipient FOR EACH ROW EXECUTE FUNCTION custody.refuse_revoked_device();

-- A revoked device sends no vault key, and none is sent to it. (Devices check this themselves
-- too: the server is not trusted to enforce it.)
CREATE FUNCTION custody.refuse_revoked_envelope() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM custody.device_revocation r WHERE r.vault_id = NEW.vault_id AND r.device_id IN (NEW.device_id, NEW.from_device)) THEN
        RAISE EXCEPTION 'a vault key envelope from or to a revoked device of vault % is refused', NEW.vault_id USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION custody.refuse_revoked_envelope() FROM PUBLIC;
CREATE TRIGGER vault_key_envelope_revoked_device BEFORE INSERT ON custody.vault_key_envelope FOR EACH ROW EXECUTE FUNCTION custody.refuse_revoked_envelope();
