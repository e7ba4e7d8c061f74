// About: version, shell, and the security model in a few plain sentences.
import { useSession } from '../stores/session.ts';

export function AboutScreen() {
  const info = useSession((s) => s.info);
  const status = useSession((s) => s.status);
  return (
    <div className="screen about-screen">
      <header className="screen-header">
        <div>
          <h1>About Custody</h1>
          <p className="screen-subtitle">An encrypted evidence vault with a tamper-evident audit log.</p>
        </div>
      </header>
      <div className="screen-scroll">
        <section className="card" aria-labelledby="about-app-h">
          <h2 id="about-app-h">This installation</h2>
          <dl className="meta-grid">
            <div>
              <dt>Version</dt>
              <dd>{info?.version ?? '—'}</dd>
            </div>
            <div>
              <dt>Shell</dt>
              <dd>{info ? (info.shell === 'electron' ? 'Desktop app (Electron)' : 'Browser (local web shell)') : '—'}</dd>
            </div>
            <div>
              <dt>Platform</dt>
              <dd>{info?.platform ?? '—'}</dd>
            </div>
            <div>
              <dt>Vault</dt>
              <dd>
                <code>{status?.vaultId ?? '—'}</code>
              </dd>
            </div>
            <div>
              <dt>Analyst</dt>
              <dd>{status?.actor ?? '—'}</dd>
            </div>
          </dl>
        </section>
        <section className="card prose" aria-labelledby="about-sec-h">
          <h2 id="about-sec-h">Security model</h2>
          <ul>
            <li>
              <strong>Encrypted at rest.</strong> Your master password is stretched with Argon2id into a key that unwraps the vault key. Every record has its own AES-256-GCM data key; attachments are encrypted in 16 KiB chunks so truncation or reordering is detected. A recovery key, shown once when the vault was created, can also unwrap the vault key.
            </li>
            <li>
              <strong>Keys stay in the background process.</strong> This window only ever receives the decrypted views it asks for — never a key, never ciphertext, never a file path it did not get from a dialog. Locking wipes the keys and every decrypted cache and reloads this window.
            </li>
            <li>
              <strong>Everything is audited.</strong> Creating, viewing, editing, exporting, searching and unlocking are written to an append-only log. The log is a Merkle tree (RFC 6962) with checkpoints signed by this device’s Ed25519 key, so any changed, removed or reordered entry is detected when you verify it.
            </li>
            <li>
              <strong>Verifiable reports.</strong> A signed chain-of-custody report can be checked by a third party offline, without access to this vault.
            </li>
          </ul>
        </section>
      </div>
    </div>
  );
}
