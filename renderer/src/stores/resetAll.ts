// Locking forgets every decrypted view the renderer holds (main also reloads the page).
import { useAttachments } from './attachments.ts';
import { useAudit } from './audit.ts';
import { useProgress } from './progress.ts';
import { useRecord } from './record.ts';
import { useRecords } from './records.ts';
import { useSettings } from './settings.ts';
import { useUi } from './ui.ts';

export function resetVaultState(): void {
  useRecord.getState().reset();
  useRecords.getState().reset();
  useAttachments.getState().reset();
  useAudit.getState().reset();
  useSettings.getState().reset();
  useUi.getState().setPaletteOpen(false);
  useProgress.setState({ byOp: {} });
}
