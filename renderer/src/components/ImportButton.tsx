// "Import…": main's native dialog on the desktop; in the browser a file input whose bytes go
// to records.importBytes, with the format taken from the file extension.
import { useEffect, useId, useRef, useState } from 'react';
import { getApi } from '../api/client.ts';
import { plural } from '../lib/format.ts';
import { reportError } from '../stores/errors.ts';
import { useRecords } from '../stores/records.ts';
import { useSession } from '../stores/session.ts';
import { toast } from '../stores/toasts.ts';
import { useUi } from '../stores/ui.ts';
import { readFileBytes } from '../lib/download.ts';
import { Icon } from './Icon.tsx';

const MAX_IMPORT = 256 * 1024 * 1024;

export function useImport() {
  const [busy, setBusy] = useState(false);
  const done = async (imported: number) => {
    toast.success(`Imported ${plural(imported, 'record')}`);
    await useRecords.getState().run();
    void useRecords.getState().loadFacets();
  };
  const fromDialog = async () => {
    setBusy(true);
    try {
      const res = await getApi()['records.importFromDialog']({});
      if (res) await done(res.imported);
    } catch (e) {
      reportError(e, 'Import failed');
    } finally {
      setBusy(false);
    }
  };
  const fromFile = async (file: File) => {
    const ext = file.name.toLowerCase().split('.').pop();
    if (ext !== 'csv' && ext !== 'json') {
      toast.error(`“${file.name}” is not a .csv or .json file. Export your records as CSV (with a header row) or as a JSON array, then import again.`);
      return;
    }
    if (file.size > MAX_IMPORT) {
      toast.error('That file is larger than 256 MiB. Split it into smaller files, or import it with the desktop app.');
      return;
    }
    setBusy(true);
    try {
      const res = await getApi()['records.importBytes']({ name: file.name, format: ext, data: await readFileBytes(file) });
      await done(res.imported);
    } catch (e) {
      reportError(e, `Import of “${file.name}” failed`);
    } finally {
      setBusy(false);
    }
  };
  return { busy, fromDialog, fromFile };
}

export function ImportButton({ primary }: { primary?: boolean }) {
  const native = useSession((s) => s.info?.nativeDialogs ?? false);
  const importRequest = useUi((s) => s.importRequest);
  const { busy, fromDialog, fromFile } = useImport();
  const inputRef = useRef<HTMLInputElement>(null);
  const id = useId();
  const seen = useRef(importRequest);

  // The palette / menu asked for an import: open the picker.
  useEffect(() => {
    if (importRequest === seen.current) return;
    seen.current = importRequest;
    if (native) void fromDialog();
    else inputRef.current?.click();
  }, [importRequest, native]);

  const cls = `button${primary ? ' button-primary' : ''}`;
  if (native)
    return (
      <button type="button" className={cls} onClick={() => void fromDialog()} disabled={busy}>
        <Icon name="import" size={14} /> Import…
      </button>
    );
  return (
    <label className={`${cls} file-button${busy ? ' disabled' : ''}`} htmlFor={id}>
      <Icon name="import" size={14} /> Import…
      <input
        ref={inputRef}
        id={id}
        className="visually-hidden"
        type="file"
        accept=".csv,.json,text/csv,application/json"
        disabled={busy}
        onChange={(e) => {
          const file = e.target.files?.[0];
          e.target.value = '';
          if (file) void fromFile(file);
        }}
      />
    </label>
  );
}
