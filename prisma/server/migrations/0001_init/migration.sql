-- 0001_init: the sync server schema (see prisma/server/schema.prisma).
--
-- Applied by `custody server init`, which creates the two template roles first and runs this
-- as {{owner}} (substituted with "<database>_owner"; {{analyst}} with "<database>_analyst").
-- The server holds ciphertext, wrapped keys, signed audit entries and checkpoints, and the
-- routing metadata sync needs (ids, versions, times, device ids): never plaintext or a key.
-- Every row carries the role that wrote it; row-level security confines each analyst to
-- their own rows, whatever SQL they write over their own connection.

-- One row per synced vault. header = vault.json (KDF parameters, the two wrappings of the
-- vault key). change_seq hands out the change numbers pull cursors follow; pushes lock the
-- row, so a vault's changes commit in the order of their numbers.
CREATE TABLE custody.vault (
    id uuid PRIMARY KEY,
    owner text NOT NULL DEFAULT current_user,
    header text NOT NULL,
    change_seq bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Keys wrapped by the vault key (the epoch root), as in the local key registry.
CREATE TABLE custody.vault_key (
    vault_id uuid NOT NULL REFERENCES custody.vault (id) ON DELETE CASCADE,
    id uuid NOT NULL,
    kind text NOT NULL,
    algorithm text NOT NULL,
    created_at timestamptz NOT NULL,
    fingerprint text NOT NULL,
    wrapped bytea NOT NULL,
    owner text NOT NULL DEFAULT current_user,
    PRIMARY KEY (vault_id, id)
);

-- Devices of a vault: each signs its own audit checkpoints. attestation = the public key
-- sealed with the vault key, so a device only trusts keys another key holder registered.
CREATE TABLE custody.device (
    vault_id uuid NOT NULL REFERENCES custody.vault (id) ON DELETE CASCADE,
    id uuid NOT NULL,
    public_key bytea NOT NULL,
    attestation bytea NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now(),
    owner text NOT NULL DEFAULT current_user,
    PRIMARY KEY (vault_id, id)
);

-- Current version of each record, sealed exactly as on the devices. A purge keeps a
-- tombstone (purged_at set, ciphertext removed) so other devices learn of it.
CREATE TABLE custody.record (
    vault_id uuid NOT NULL REFERENCES custody.vault (id) ON DELETE CASCADE,
    id uuid NOT NULL,
    kind text NOT NULL,
    captured_at timestamptz NOT NULL,
    epoch_day text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    version integer NOT NULL,
    deleted_at timestamptz,
    purged_at timestamptz,
    wrapped_dek bytea,
    summary bytea,
    content bytea,
    device_id uuid NOT NULL,
    change_seq bigint NOT NULL,
    owner text NOT NULL DEFAULT current_user,
    PRIMARY KEY (vault_id, id)
);
CREATE INDEX record_vault_id_change_seq_idx ON custody.record (vault_id, change_seq);

-- Earlier versions of records, as the devices' record_version tables keep them.
CREATE TABLE custody.record_version (
    vault_id uuid NOT NULL,
    record_id uuid NOT NULL,
    version integer NOT NULL,
    kind text NOT NULL,
    captured_at timestamptz NOT NULL,
    epoch_day text NOT NULL,
    saved_at timestamptz NOT NULL,
    wrapped_dek bytea NOT NULL,
    summary bytea NOT NULL,
    content bytea NOT NULL,
    owner text NOT NULL DEFAULT current_user,
    PRIMARY KEY (vault_id, record_id, version),
    FOREIGN KEY (vault_id, record_id) REFERENCES custody.record (vault_id, id) ON DELETE CASCADE
);

-- Attachments: the sealed row, and the blob's ciphertext (the .cce file) in 1 MiB chunks.
CREATE TABLE custody.attachment (
    vault_id uuid NOT NULL,
    id uuid NOT NULL,
    record_id uuid NOT NULL,
    created_at timestamptz NOT NULL,
    wrapped_key bytea NOT NULL,
    meta bytea NOT NULL,
    blob_size bigint NOT NULL,
    device_id uuid NOT NULL,
    change_seq bigint NOT NULL,
    owner text NOT NULL DEFAULT current_user,
    PRIMARY KEY (vault_id, id),
    FOREIGN KEY (vault_id, record_id) REFERENCES custody.record (vault_id, id) ON DELETE CASCADE
);
CREATE INDEX attachment_vault_id_change_seq_idx ON custody.attachment (vault_id, change_seq);

CREATE TABLE custody.attachment_chunk (
    vault_id uuid NOT NULL,
    attachment_id uuid NOT NULL,
    idx integer NOT NULL,
    data bytea NOT NULL,
    owner text NOT NULL DEFAULT current_user,
    PRIMARY KEY (vault_id, attachment_id, idx),
    FOREIGN KEY (vault_id, attachment_id) REFERENCES custody.attachment (vault_id, id) ON DELETE CASCADE
);

-- Every device's audit entries (the canonical JSON each device hashed into its Merkle tree;
-- NULL once retention pruned it, the leaf hash stays) and its signed checkpoints. Append-only:
-- UPDATE, DELETE and TRUNCATE are neither granted nor allowed by the triggers below.
-- Partitioned by month of the entry's time; the partition key must be in the primary key.
CREATE TABLE custody.audit_entry (
    vault_id uuid NOT NULL,
    device_id uuid NOT NULL,
    seq bigint NOT NULL,
    time timestamptz NOT NULL,
    entry text,
    leaf_hash bytea NOT NULL,
    owner text NOT NULL DEFAULT current_user,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (vault_id, device_id, seq, time)
) PARTITION BY RANGE (time);

CREATE TABLE custody.audit_checkpoint (
    vault_id uuid NOT NULL,
    device_id uuid NOT NULL,
    size bigint NOT NULL,
    note text NOT NULL,
    owner text NOT NULL DEFAULT current_user,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (vault_id, device_id, size)
);

-- ---- append-only ----------------------------------------------------------------------------

CREATE FUNCTION custody.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'custody.% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON custody.audit_entry FOR EACH ROW EXECUTE FUNCTION custody.refuse_change();
CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON custody.audit_entry FOR EACH STATEMENT EXECUTE FUNCTION custody.refuse_change();
CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON custody.audit_checkpoint FOR EACH ROW EXECUTE FUNCTION custody.refuse_change();
CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON custody.audit_checkpoint FOR EACH STATEMENT EXECUTE FUNCTION custody.refuse_change();

-- ---- monthly partitions -----------------------------------------------------------------------

-- Creates the partitions of audit_entry for every month from first_time to last_time (UTC)
-- that lacks one; returns how many it created. Clients call it before pushing entries of a
-- month the server has not seen (an old vault's first sync); provisioning and a monthly job
-- call create_audit_partitions for the months ahead. Runs as the owner (SECURITY DEFINER).
CREATE FUNCTION custody.ensure_audit_partitions(first_time timestamptz, last_time timestamptz) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    month date := date_trunc('month', first_time AT TIME ZONE 'UTC')::date;
    last_month date := date_trunc('month', last_time AT TIME ZONE 'UTC')::date;
    part text;
    created integer := 0;
BEGIN
    IF first_time > last_time THEN
        RETURN 0;
    END IF;
    IF first_time < timestamptz '2000-01-01 00:00:00+00' OR last_time > now() + interval '13 months' THEN
        RAISE EXCEPTION 'audit entries must be dated between 2000 and a year from now (is a device clock wrong?)' USING ERRCODE = 'data_exception';
    END IF;
    -- One creator at a time, so concurrent pushes do not race to create the same month.
    PERFORM pg_advisory_xact_lock(hashtext('custody.audit_entry partitions'));
    WHILE month <= last_month LOOP
        part := format('audit_entry_%s', to_char(month, 'YYYY_MM'));
        IF to_regclass(format('custody.%I', part)) IS NULL THEN
            EXECUTE format('CREATE TABLE custody.%I PARTITION OF custody.audit_entry FOR VALUES FROM (%L) TO (%L)',
                part, month::timestamp AT TIME ZONE 'UTC', (month + interval '1 month')::timestamp AT TIME ZONE 'UTC');
            -- TRUNCATE of a partition is refused like TRUNCATE of the whole table.
            EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON custody.%I FOR EACH STATEMENT EXECUTE FUNCTION custody.refuse_change()', part || '_no_truncate', part);
            EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON custody.%I FROM CURRENT_USER', part);
            created := created + 1;
        END IF;
        month := (month + interval '1 month')::date;
    END LOOP;
    RETURN created;
END
$$;

CREATE FUNCTION custody.create_audit_partitions(months_ahead integer DEFAULT 12) RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT custody.ensure_audit_partitions(now(), now() + make_interval(months => least(greatest(months_ahead, 0), 12)));
$$;

SELECT custody.create_audit_partitions(12);

-- ---- privileges and row-level security ----------------------------------------------------------

-- Not even the owner may rewrite the audit (it could grant itself back; the triggers stay).
REVOKE UPDATE, DELETE, TRUNCATE ON custody.audit_entry, custody.audit_checkpoint FROM {{owner}};

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA custody FROM PUBLIC;
GRANT USAGE ON SCHEMA custody TO {{analyst}};
GRANT SELECT, INSERT ON custody.vault TO {{analyst}};
GRANT UPDATE (header, change_seq) ON custody.vault TO {{analyst}};
GRANT SELECT, INSERT ON custody.vault_key, custody.device TO {{analyst}};
GRANT SELECT, INSERT, UPDATE, DELETE ON custody.record, custody.record_version, custody.attachment, custody.attachment_chunk TO {{analyst}};
GRANT SELECT, INSERT ON custody.audit_entry, custody.audit_checkpoint TO {{analyst}};
GRANT EXECUTE ON FUNCTION custody.ensure_audit_partitions(timestamptz, timestamptz) TO {{analyst}};
GRANT SELECT ON custody._migrations TO {{analyst}};

-- A row is visible to, and writable by, the role that wrote it; a row can only be written
-- into a vault that role owns. FORCE applies the policies to the tables' owner as well.
ALTER TABLE custody.vault ENABLE ROW LEVEL SECURITY;
ALTER TABLE custody.vault FORCE ROW LEVEL SECURITY;
CREATE POLICY vault_owner ON custody.vault USING (owner = current_user) WITH CHECK (owner = current_user);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['vault_key', 'device', 'record', 'record_version', 'attachment', 'attachment_chunk', 'audit_entry', 'audit_checkpoint'] LOOP
        EXECUTE format('ALTER TABLE custody.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE custody.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY %I ON custody.%I USING (owner = current_user) WITH CHECK (owner = current_user AND EXISTS (SELECT 1 FROM custody.vault v WHERE v.id = vault_id AND v.owner = current_user))', t || '_owner', t);
    END LOOP;
END
$$;
