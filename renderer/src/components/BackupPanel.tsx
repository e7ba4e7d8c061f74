// Settings → Backups: the last successful backup, scheduled backups (every N hours while
// unlocked, the newest K kept) and "Back up now". The folder is chosen on the command line
// (custody backup schedule --folder DIR): the window never names files on this computer.
import { useCallback, useEffect, useId, useState } from 'react';
import type { BackupStatusView } from '../../../electron/shared/contract.ts';
import { getApi } from '../api/client.ts';
import { formatDateTime } from '../lib/format.ts';
import { reportError } from '../stores/errors.ts';
import { toast } from '../stores/toasts.ts';
import { ProgressBar, Spinner } from './Feedback.tsx';
import { useProgress } from '../stores/progress.ts';
import { Icon } from './Icon.tsx';

const HOURS = [1, 6, 12, 24, 72, 168];

export function BackupPanel() {
  const id = useId();
  const [status, setStatus] = useState<BackupStatusView | null>(null);
  const [busy, setBusy] = useState(false);
  const progress = useProgress((p) => p.byOp.backup);
  const refresh = useCallback(async () => {
    try {
      setStatus(await getApi()['backup.status']({}));
    } catch (e) {
      reportError(e, 'Could not read the backup status');
    }
  }, []);
  useEffect(() => {
    void refresh();
  }, [refresh]);

  const change = async (patch: Partial<{ enabled: boolean; everyHours: number; keep: number }>) => {
    const s = status?.schedule;
    if (!s) return;
    try {
      setStatus(await getApi()['backup.setSchedule']({ enabled: s.enabled, everyHours: s.everyHours, keep: s.keep, ...patch }));
      toast.success('Backup schedule saved');
    } catch (e) {
      reportError(e, 'The backup schedule was not saved');
    }
  };
  const runNow = async () => {
    setBusy(true);
    try {
      setStatus(await getApi()['backup.runNow']({}));
      toast.success('Backup written');
    } catch (e) {
      reportError(e, 'The backup failed');
      void refresh();
    } finally {
      setBusy(false);
    }
  };

  const s = status?.schedule;
  return (
    <section className="card settings-card" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Backups</h2>
      {!status ? (
        <Spinner label="Reading backup status…" />
      ) : (
        <>
          <p role="status" className={status.lastError ? 'field-error' : undefined}>
            <Icon name={status.lastBackupAt && !status.lastError ? 'shieldCheck' : 'info'} size={14} /> Last successful backup: <strong>{status.lastBackupAt ? formatDateTime(status.lastBackupAt) : 'never'}</strong>
            {status.lastError ? `. The last scheduled backup failed: ${status.lastError}` : ''}
          </p>
          {s ? (
            <>
              <label className="checkbox">
                <input type="checkbox" checked={s.enabled} onChange={(e) => void change({ enabled: e.target.checked })} />
                <span>Back up automatically into the folder “{s.folderName}” while the vault is unlocked</span>
              </label>
              <div className="input-row">
                <label htmlFor={`${id}-every`}>Every</label>
                <select id={`${id}-every`} value={s.everyHours} onChange={(e) => void change({ everyHours: Number(e.target.value) })}>
                  {[...new Set([...HOURS, s.everyHours])].sort((a, b) => a - b).map((h) => (
                    <option key={h} value={h}>
                      {h === 1 ? 'hour' : h % 24 === 0 ? `${h / 24} ${h === 24 ? 'day' : 'days'}` : `${h} hours`}
                    </option>
                  ))}
                </select>
                <label htmlFor={`${id}-keep`}>keeping the newest</label>
                <input id={`${id}-keep`} type="number" min={1} max={1000} value={s.keep} onChange={(e) => Number(e.target.value) >= 1 && void change({ keep: Number(e.target.value) })} />
              </div>
              {s.enabled && status.nextDueAt && <p className="field-hint">Next backup due {formatDateTime(status.nextDueAt)}.</p>}
              <button type="button" className="button" onClick={() => void runNow()} disabled={busy || !status.unlocked}>
                {busy ? <Spinner size={14} /> : null}
                Back up now
              </button>
              {busy && <ProgressBar label="Backing up…" event={progress} />}
            </>
          ) : (
            <p className="field-hint">
              No backup folder is set. Choose one on the command line: <code>custody backup schedule --folder DIR --every 24 --keep 7</code>. One-off backups: <code>custody backup --out FILE</code>.
            </p>
          )}
        </>
      )}
    </section>
  );
}
