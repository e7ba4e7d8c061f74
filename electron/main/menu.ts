// The application menu. Items that concern the UI send a `command` event to the renderer;
// Lock is done by main itself, so it works even when the page is busy or hung.
import { app, Menu, type MenuItemConstructorOptions } from 'electron';
import type { Events } from '../shared/contract.ts';

export type CommandName = Events['command']['name'];

export interface MenuActions {
  command(name: CommandName): void;
  lock(): void;
  devTools: boolean;
}

export function buildMenu(actions: MenuActions): Menu {
  const mac = process.platform === 'darwin';
  const cmd = (label: string, name: CommandName, accelerator?: string): MenuItemConstructorOptions => ({
    label,
    ...(accelerator ? { accelerator } : {}),
    click: () => actions.command(name),
  });
  const lock: MenuItemConstructorOptions = { label: 'Lock Vault', accelerator: 'CmdOrCtrl+L', click: () => actions.lock() };
  const settings = cmd(mac ? 'Settings…' : 'Settings', 'settings', 'CmdOrCtrl+,');
  const about = cmd('About Custody', 'about');

  const template: MenuItemConstructorOptions[] = [
    ...(mac
      ? [{ label: app.name, submenu: [about, { type: 'separator' }, settings, { type: 'separator' }, lock, { type: 'separator' }, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, { type: 'separator' }, { role: 'quit' }] } satisfies MenuItemConstructorOptions]
      : []),
    {
      label: 'File',
      submenu: [cmd('New Record', 'new-record', 'CmdOrCtrl+N'), { type: 'separator' }, ...(mac ? [] : [settings, { type: 'separator' } as const, lock, { type: 'separator' } as const]), mac ? { role: 'close' } : { role: 'quit' }],
    },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        cmd('Search', 'search', 'CmdOrCtrl+K'),
        // A second accelerator for the same item: hidden, as menus show only one.
        { ...cmd('Find', 'search', 'CmdOrCtrl+F'), visible: false, acceleratorWorksWhenHidden: true },
        cmd('Audit Log', 'audit', 'CmdOrCtrl+Shift+A'),
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
        ...(actions.devTools ? [{ type: 'separator' } as const, { role: 'toggleDevTools' } as const] : []),
      ],
    },
    { role: 'windowMenu' },
    { role: 'help', submenu: mac ? [] : [about] },
  ];
  return Menu.buildFromTemplate(template);
}
