-- 0002_least_privilege: analysts keep only the privileges sync needs, and rows that hold
-- evidence only move forward.
--
-- 0001 let an analyst's role UPDATE and DELETE every record, history, attachment and chunk
-- row, so a stolen analyst password (or a buggy client) could rewrite or destroy the
-- server's copy of the evidence. Now:
--   * history (record_version), attachments and their chunks are written once: INSERT only;
--     the only way to remove them is custody.purge_records, and only for a record that is
--     already a tombstone (what a purge on a device turns it into);
--   * a record row may be updated (it is the head of its history: new version, trash state,
--     tombstone), but a trigger lets it only move forward: the version never goes back, a
--     version's ciphertext never changes, a tombstone is final and holds no ciphertext, every
--     change takes a new change number (so every device's pull sees it), and its identity
--     (vault, id, kind, created_at, owner) never changes;
--   * nobody may DELETE a record or rewrite a vault's header; the vault's change counter only
--     moves forward.
-- A PostgreSQL superuser can still do anything (disable triggers, grant itself back): devices
-- do not trust the server for that reason and check what they pull against the signed audit
-- entries of the device that made each change (electron/core/sync/client/evidence.ts).

REVOKE UPDATE, DELETE ON custody.record, custody.record_version, custody.attachment, custody.attachment_chunk FROM {{analyst}};
REVOKE UPDATE (header) ON custody.vault FROM {{analyst}};
-- What push.ts writes when a record gets a new version, a trash state or a tombstone.
GRANT UPDATE (captured_at, epoch_day, updated_at, version, deleted_at, purged_at, wrapped_dek, summary, content, device_id, change_seq) ON custody.record TO {{analyst}};
-- attachmentSync.ts numbers an attachment once its chunks are in.
GRANT UPDATE (change_seq) ON custody.attachment TO {{analyst}};

CREATE FUNCTION custody.record_moves_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.purged_at IS NOT NULL THEN
        RAISE EXCEPTION 'record % was purged: its tombstone is final', OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (NEW.vault_id, NEW.id, NEW.kind, NEW.created_at, NEW.owner) IS DISTINCT FROM (OLD.vault_id, OLD.id, OLD.kind, OLD.created_at, OLD.owner) THEN
        RAISE EXCEPTION 'the identity of record % cannot change', OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.version < OLD.version THEN
        RAISE EXCEPTION 'record % cannot go back from version % to %', OLD.id, OLD.version, NEW.version USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.change_seq <= OLD.change_seq THEN
        RAISE EXCEPTION 'a change of record % needs a new change number', OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.purged_at IS NOT NULL THEN
        IF NEW.wrapped_dek IS NOT NULL OR NEW.summary IS NOT NULL OR NEW.content IS NOT NULL THEN
            RAISE EXCEPTION 'the tombstone of record % keeps no ciphertext', OLD.id USING ERRCODE = 'insufficient_privilege';
        END IF;
    ELSIF NEW.wrapped_dek IS NULL OR NEW.summary IS NULL OR NEW.content IS NULL THEN
        RAISE EXCEPTION 'record % is not purged: it keeps its ciphertext', OLD.id USING ERRCODE = 'insufficient_privilege';
    ELSIF NEW.version = OLD.version
        AND (NEW.wrapped_dek, NEW.summary, NEW.content, NEW.captured_at, NEW.epoch_day, NEW.updated_at) IS DISTINCT FROM (OLD.wrapped_dek, OLD.summary, OLD.content, OLD.captured_at, OLD.epoch_day, OLD.updated_at) THEN
        RAISE EXCEPTION 'version % of record % cannot change: a change is a new version', OLD.version, OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER record_moves_forward BEFORE UPDATE ON custody.record FOR EACH ROW EXECUTE FUNCTION custody.record_moves_forward();

CREATE FUNCTION custody.vault_moves_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.change_seq < OLD.change_seq THEN
        RAISE EXCEPTION 'the change counter of vault % cannot go back', OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER vault_moves_forward BEFORE UPDATE ON custody.vault FOR EACH ROW EXECUTE FUNCTION custody.vault_moves_forward();

-- A purge: the record is a tombstone already (set by the caller in the same transaction);
-- this removes its history and attachments (the chunks follow by cascade). Runs as the owner
-- role, which the policies below let see exactly the calling analyst's rows (session_user:
-- SET ROLE inside the session does not change it).
CREATE POLICY vault_purge ON custody.vault FOR SELECT TO {{owner}} USING (owner = session_user);
CREATE POLICY record_purge ON custody.record FOR SELECT TO {{owner}} USING (owner = session_user AND purged_at IS NOT NULL);
CREATE POLICY record_version_purge_read ON custody.record_version FOR SELECT TO {{owner}} USING (owner = session_user);
CREATE POLICY record_version_purge ON custody.record_version FOR DELETE TO {{owner}} USING (owner = session_user);
CREATE POLICY attachment_purge_read ON custody.attachment FOR SELECT TO {{owner}} USING (owner = session_user);
CREATE POLICY attachment_purge ON custody.attachment FOR DELETE TO {{owner}} USING (owner = session_user);

CREATE FUNCTION custody.purge_records(p_vault uuid, p_ids uuid[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    removed integer;
    more integer;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM custody.vault WHERE id = p_vault AND owner = session_user) THEN
        RAISE EXCEPTION 'vault % is not registered for this role', p_vault USING ERRCODE = 'insufficient_privilege';
    END IF;
    DELETE FROM custody.record_version v USING custody.record r
    WHERE r.vault_id = p_vault AND r.id = ANY(p_ids) AND r.purged_at IS NOT NULL AND r.owner = session_user
      AND v.vault_id = r.vault_id AND v.record_id = r.id;
    GET DIAGNOSTICS removed = ROW_COUNT;
    DELETE FROM custody.attachment a USING custody.record r
    WHERE r.vault_id = p_vault AND r.id = ANY(p_ids) AND r.purged_at IS NOT NULL AND r.owner = session_user
      AND a.vault_id = r.vault_id AND a.record_id = r.id;
    GET DIAGNOSTICS more = ROW_COUNT;
    RETURN removed + more;
END
$$;
REVOKE ALL ON FUNCTION custody.purge_records(uuid, uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION custody.purge_records(uuid, uuid[]) TO {{analyst}};
