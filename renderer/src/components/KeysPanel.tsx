// Settings → Keys: the key registry (docs/keys.md): what each key is, its status (active,
// rotation queued, retired, expired, revoked), when it was made, rotated and expires, its
// fingerprint and how often it was used. No key material reaches the window; rotations are
// run with "custody keys rotate …".
import { useEffect, useId, useState } from 'react';
import type { KeysView } from '../../../electron/shared/contract.ts';
import { getApi } from '../api/client.ts';
import { reportError } from '../stores/errors.ts';
import { Spinner } from './Feedback.tsx';

const KIND: Record<string, string> = { vault_key: 'Vault key', epoch_root: 'Epoch root', device_signing: 'Device signing key', pdf_signing: 'Report certificate', age_identity: 'Reviewer identity' };
const STATUS: Record<string, string> = { active: 'Active', rotation_queued: 'Rotation queued', retired: 'Retired', expired: 'Expired', revoked: 'Revoked' };
const day = (iso: string | null) => (iso ? iso.slice(0, 10) : '—');

export function KeysPanel() {
  const id = useId();
  const [view, setView] = useState<KeysView | null>(null);
  useEffect(() => {
    const api = getApi();
    api['keys.list']({})
      .then(setView)
      .catch((e: unknown) => reportError(e, 'Could not read the key registry'));
  }, []);
  return (
    <section className="card settings-card keys-panel" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Keys</h2>
      {!view ? (
        <Spinner label="Reading the key registry…" />
      ) : (
        <>
          {view.warnings.length > 0 && (
            <ul className="keys-warnings" role="status">
              {view.warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          )}
          <div className="table-wrap">
            <table className="audit-table keys-table">
              <thead>
                <tr>
                  <th scope="col">Key</th>
                  <th scope="col">Algorithm</th>
                  <th scope="col">Status</th>
                  <th scope="col">Created</th>
                  <th scope="col">Rotated</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Fingerprint</th>
                  <th scope="col">Uses</th>
                </tr>
              </thead>
              <tbody>
                {view.keys.map((k) => (
                  <tr key={k.id} data-status={k.status}>
                    <td title={k.id}>
                      {KIND[k.kind] ?? k.kind}
                      {k.serves && k.serves !== 'all days' ? <span className="field-hint"> {k.serves}</span> : null}
                    </td>
                    <td>{k.algorithm}</td>
                    <td>
                      {STATUS[k.status] ?? k.status}
                      {k.expiresInDays !== undefined ? <span className="field-hint"> ({k.expiresInDays} days left)</span> : null}
                    </td>
                    <td>{day(k.createdAt)}</td>
                    <td>{day(k.rotatedAt)}</td>
                    <td>{day(k.expiresAt)}</td>
                    <td>
                      <code>{k.fingerprint}</code>
                    </td>
                    <td>{k.usageCount}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p className="field-hint">
            Rotate with the command line: <code>custody keys rotate vault-key | epoch-root | device-key | record-keys | report-cert</code>.
          </p>
        </>
      )}
    </section>
  );
}
