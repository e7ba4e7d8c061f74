-- 0003_envelopes: delivery of disclosure packages through the sync server (docs/sharing.md,
-- "Delivery through the sync server"; client: electron/core/sharing/delivery.ts).
--
-- reviewer_key: the age recipients analysts publish so others can address envelopes to them
--   (recipient_sha256 = SHA-256 hex of the recipient string). Every analyst may read it (it
--   holds public keys); each row belongs to the role that published it. Append-only.
-- envelope: one package (an age file: ciphertext to the recipient's key) from an issuer to one
--   recipient role. Never changed after insert. Only the issuer's and the recipient's roles see
--   it, the recipient only while it is pending, delivered or opened and not past its expiry: a
--   withdrawn or expired envelope can no longer be fetched.
-- envelope_event: its status, as appended events (pending -> delivered -> opened; withdrawn by
--   the issuer before it is opened; expired once its time has passed); never updated. A trigger
--   checks who may append what, after what.
-- envelope_open: the server-side decryption log: each attempt of the recipient to open the
--   package (who, when, whether it decrypted and verified). Append-only.

CREATE TABLE custody.reviewer_key (
    recipient_sha256 text PRIMARY KEY CHECK (recipient_sha256 ~ '^[0-9a-f]{64}$'),
    fingerprint text NOT NULL,
    recipient text NOT NULL CHECK (recipient ~ '^age1[0-9a-z]+$'),
    owner text NOT NULL DEFAULT current_user,
    registered_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE custody.envelope (
    id uuid PRIMARY KEY,
    issuer text NOT NULL DEFAULT current_user,
    recipient_role text NOT NULL,
    recipient_sha256 text NOT NULL REFERENCES custody.reviewer_key (recipient_sha256),
    package bytea NOT NULL CHECK (octet_length(package) <= 268435456),
    package_sha256 text NOT NULL CHECK (package_sha256 ~ '^[0-9a-f]{64}$'),
    expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX envelope_recipient_role_idx ON custody.envelope (recipient_role);
CREATE INDEX envelope_issuer_idx ON custody.envelope (issuer);

CREATE TABLE custody.envelope_event (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    envelope_id uuid NOT NULL REFERENCES custody.envelope (id),
    status text NOT NULL CHECK (status IN ('pending', 'delivered', 'opened', 'expired', 'withdrawn')),
    actor text NOT NULL DEFAULT current_user,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX envelope_event_envelope_id_idx ON custody.envelope_event (envelope_id, id);

CREATE TABLE custody.envelope_open (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    envelope_id uuid NOT NULL REFERENCES custody.envelope (id),
    actor text NOT NULL DEFAULT current_user,
    at timestamptz NOT NULL DEFAULT now(),
    success boolean NOT NULL
);
CREATE INDEX envelope_open_envelope_id_idx ON custody.envelope_open (envelope_id);

-- ---- append-only ----------------------------------------------------------------------------
CREATE TRIGGER reviewer_key_append_only BEFORE UPDATE OR DELETE ON custody.reviewer_key FOR EACH ROW EXECUTE FUNCTION custody.refuse_change();
CREATE TRIGGER envelope_append_only BEFORE UPDATE OR DELETE ON custody.envelope FOR EACH ROW EXECUTE FUNCTION custody.refuse_change();
CREATE TRIGGER envelope_event_append_only BEFORE UPDATE OR DELETE ON custody.envelope_event FOR EACH ROW EXECUTE FUNCTION custody.refuse_change();
CREATE TRIGGER envelope_open_append_only BEFORE UPDATE OR DELETE ON custody.envelope_open FOR EACH ROW EXECUTE FUNCTION custody.refuse_change();
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['reviewer_key', 'envelope', 'envelope_event', 'envelope_open'] LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON custody.%I FOR EACH STATEMENT EXECUTE FUNCTION custody.refuse_change()', t || '_no_truncate', t);
    END LOOP;
END
$$;
-- The owning role keeps UPDATE only because foreign-key checks (FOR KEY SHARE) need it; the
-- triggers above refuse every UPDATE, its own included.
REVOKE DELETE, TRUNCATE ON custody.reviewer_key, custody.envelope, custody.envelope_event, custody.envelope_open FROM {{owner}};

-- ---- status -----------------------------------------------------------------------------------
-- The current status of an envelope: its newest event. Runs as the owner (SECURITY DEFINER, with
-- a read policy of its own below) so the envelope's row-level security can use it without
-- recursing through envelope_event's.
CREATE FUNCTION custody.envelope_status(p_id uuid) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT status FROM custody.envelope_event WHERE envelope_id = p_id ORDER BY id DESC LIMIT 1;
$$;

-- The issuer's envelope starts pending (the event is the issuer's, written by the owner role).
CREATE FUNCTION custody.envelope_created() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO custody.envelope_event (envelope_id, status, actor) VALUES (NEW.id, 'pending', NEW.issuer);
    RETURN NEW;
END
$$;
CREATE TRIGGER envelope_created AFTER INSERT ON custody.envelope FOR EACH ROW EXECUTE FUNCTION custody.envelope_created();

-- An envelope is addressed to the role that published the recipient's key; the issuer names the
-- key, the server fills in the role.
CREATE FUNCTION custody.envelope_addressed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    role text;
BEGIN
    SELECT owner INTO role FROM custody.reviewer_key WHERE recipient_sha256 = NEW.recipient_sha256;
    IF role IS NULL THEN
        RAISE EXCEPTION 'no analyst of this server has published that recipient' USING ERRCODE = 'foreign_key_violation';
    END IF;
    NEW.recipient_role := role;
    IF NEW.expires_at IS NOT NULL AND NEW.expires_at <= now() THEN
        RAISE EXCEPTION 'the envelope has already expired' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER envelope_addressed BEFORE INSERT ON custody.envelope FOR EACH ROW EXECUTE FUNCTION custody.envelope_addressed();

-- Who may append which status after which: the recipient marks it delivered (fetched) and
-- opened; the issuer withdraws it while it is not opened; either records its expiry once past.
-- Opened, withdrawn and expired are final. One change per envelope at a time (advisory lock).
CREATE FUNCTION custody.envelope_event_allowed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    e custody.envelope%ROWTYPE;
    current text;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('custody.envelope ' || NEW.envelope_id::text, 0));
    SELECT * INTO e FROM custody.envelope WHERE id = NEW.envelope_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no envelope %', NEW.envelope_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    current := custody.envelope_status(NEW.envelope_id);
    IF current IS NULL THEN
        IF NEW.status = 'pending' AND NEW.actor = e.issuer THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'an envelope starts pending' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF current IN ('opened', 'withdrawn', 'expired') THEN
        RAISE EXCEPTION 'envelope % is % already: its status cannot change', NEW.envelope_id, current USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.status = 'delivered' AND current = 'pending' AND NEW.actor = e.recipient_role THEN
        RETURN NEW;
    ELSIF NEW.status = 'opened' AND NEW.actor = e.recipient_role AND (e.expires_at IS NULL OR e.expires_at > now()) THEN
        RETURN NEW;
    ELSIF NEW.status = 'withdrawn' AND NEW.actor = e.issuer THEN
        RETURN NEW;
    ELSIF NEW.status = 'expired' AND NEW.actor IN (e.issuer, e.recipient_role) AND e.expires_at IS NOT NULL AND e.expires_at <= now() THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'envelope %: % may not go from % to %', NEW.envelope_id, NEW.actor, current, NEW.status USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER envelope_event_allowed BEFORE INSERT ON custody.envelope_event FOR EACH ROW EXECUTE FUNCTION custody.envelope_event_allowed();

-- ---- privileges and row-level security ----------------------------------------------------------
GRANT SELECT, INSERT ON custody.reviewer_key, custody.envelope, custody.envelope_event, custody.envelope_open TO {{analyst}};
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['reviewer_key', 'envelope', 'envelope_event', 'envelope_open'] LOOP
        EXECUTE format('ALTER TABLE custody.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE custody.%I FORCE ROW LEVEL SECURITY', t);
    END LOOP;
END
$$;
-- Published keys are public; each analyst publishes only as themself.
CREATE POLICY reviewer_key_read ON custody.reviewer_key FOR SELECT TO {{analyst}} USING (true);
CREATE POLICY reviewer_key_publish ON custody.reviewer_key FOR INSERT TO {{analyst}} WITH CHECK (owner = current_user);
CREATE POLICY reviewer_key_owner_read ON custody.reviewer_key FOR SELECT TO {{owner}} USING (true);
-- The issuer always; the recipient while the envelope may still be opened.
CREATE POLICY envelope_read ON custody.envelope FOR SELECT TO {{analyst}} USING (
    issuer = current_user
    OR (recipient_role = current_user AND custody.envelope_status(id) IN ('pending', 'delivered', 'opened') AND (expires_at IS NULL OR expires_at > now()))
);
CREATE POLICY envelope_issue ON custody.envelope FOR INSERT TO {{analyst}} WITH CHECK (issuer = current_user);
CREATE POLICY envelope_owner_read ON custody.envelope FOR SELECT TO {{owner}} USING (true);
-- Events and the decryption log: visible to the envelope's two parties; each appends as itself.
CREATE POLICY envelope_event_read ON custody.envelope_event FOR SELECT TO {{analyst}} USING (
    EXISTS (SELECT 1 FROM custody.envelope e WHERE e.id = envelope_id AND (e.issuer = current_user OR e.recipient_role = current_user))
);
CREATE POLICY envelope_event_append ON custody.envelope_event FOR INSERT TO {{analyst}} WITH CHECK (actor = current_user);
CREATE POLICY envelope_event_owner ON custody.envelope_event TO {{owner}} USING (true) WITH CHECK (true);
CREATE POLICY envelope_open_read ON custody.envelope_open FOR SELECT TO {{analyst}} USING (
    EXISTS (SELECT 1 FROM custody.envelope e WHERE e.id = envelope_id AND (e.issuer = current_user OR e.recipient_role = current_user))
);
CREATE POLICY envelope_open_log ON custody.envelope_open FOR INSERT TO {{analyst}} WITH CHECK (
    actor = current_user AND EXISTS (SELECT 1 FROM custody.envelope e WHERE e.id = envelope_id AND e.recipient_role = current_user)
);
REVOKE ALL ON FUNCTION custody.envelope_created(), custody.envelope_addressed(), custody.envelope_event_allowed() FROM PUBLIC;
REVOKE ALL ON FUNCTION custody.envelope_status(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION custody.envelope_status(uuid) TO {{analyst}};
