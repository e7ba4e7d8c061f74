// Native file dialogs, modal to the window (the only source of file paths; the renderer never
// names one). Shown by main before a call goes down to core with the path (dialogCalls.ts).
import { dialog, shell, type BrowserWindow } from 'electron';
import type { Dialogs } from './dialogCalls.ts';

export function electronDialogs(window: () => BrowserWindow | null): Dialogs {
  const parent = () => window() ?? undefined;
  return {
    async openFiles() {
      const w = parent();
      const opts = { title: 'Attach files', properties: ['openFile', 'multiSelections'] } satisfies Electron.OpenDialogOptions;
      const r = w ? await dialog.showOpenDialog(w, opts) : await dialog.showOpenDialog(opts);
      return r.canceled ? [] : r.filePaths;
    },
    async saveFile(defaultName) {
      const w = parent();
      const opts = { title: 'Save attachment', defaultPath: defaultName } satisfies Electron.SaveDialogOptions;
      const r = w ? await dialog.showSaveDialog(w, opts) : await dialog.showSaveDialog(opts);
      return r.canceled || !r.filePath ? null : r.filePath;
    },
    async openImportFile() {
      const w = parent();
      const opts = {
        title: 'Import records',
        properties: ['openFile'],
        filters: [{ name: 'Records (JSON or CSV)', extensions: ['json', 'csv'] }],
      } satisfies Electron.OpenDialogOptions;
      const r = w ? await dialog.showOpenDialog(w, opts) : await dialog.showOpenDialog(opts);
      return r.canceled ? null : (r.filePaths[0] ?? null);
    },
    async saveReport(defaultName) {
      const w = parent();
      const opts = { title: 'Save signed report', defaultPath: defaultName, filters: [{ name: 'Signed report (zip)', extensions: ['zip'] }] } satisfies Electron.SaveDialogOptions;
      const r = w ? await dialog.showSaveDialog(w, opts) : await dialog.showSaveDialog(opts);
      return r.canceled || !r.filePath ? null : r.filePath;
    },
    async openCertificate() {
      const w = parent();
      const opts = {
        title: "The sync server's CA certificate",
        properties: ['openFile'],
        filters: [{ name: 'Certificates (PEM)', extensions: ['pem', 'crt', 'cer'] }],
      } satisfies Electron.OpenDialogOptions;
      const r = w ? await dialog.showOpenDialog(w, opts) : await dialog.showOpenDialog(opts);
      return r.canceled ? null : (r.filePaths[0] ?? null);
    },
    async showInFolder(path) {
      shell.showItemInFolder(path);
    },
  };
}
