// A faithful stand-in for the part of the `electron` module that main uses, so main's own code
// (window options, IPC registration, sender checks, session handlers, auto-lock, menu,
// dialogs) runs here, where Electron's binary is not available. It records what main asks
// of Electron and lets a test play Electron's side: the app becoming ready, IPC invocations
// from a given frame, power events, permission requests, navigations, menu clicks.
// Names are checked against electron.d.ts (`satisfies`), argument and result types come from
// Electron's own; behaviour follows Electron's documentation where main depends on it
// (web-contents-created fires for every new window's contents, before-quit can be prevented,
// whenReady resolves once ready fires, a channel takes one handler).
import { EventEmitter } from 'node:events';
import type { MenuItemConstructorOptions } from 'electron';

/** An event main can cancel, as Electron passes to will-navigate, before-quit and the like. */
export class FakeEvent {
  defaultPrevented = false;
  preventDefault(): void {
    this.defaultPrevented = true;
  }
}

export class FakeWebContents extends EventEmitter {
  static #nextId = 1;
  readonly id = FakeWebContents.#nextId++;
  url = '';
  readonly sent: { channel: string; args: unknown[] }[] = [];
  reloads = 0;
  windowOpenHandler: ((details: Electron.HandlerDetails) => Electron.WindowOpenHandlerResponse) | null = null;

  getURL(): string {
    return this.url;
  }
  send(channel: string, ...args: unknown[]): void {
    this.sent.push({ channel, args });
  }
  reload(): void {
    this.reloads++;
  }
  setWindowOpenHandler(handler: (details: Electron.HandlerDetails) => Electron.WindowOpenHandlerResponse): void {
    this.windowOpenHandler = handler;
  }
}

/** A frame of a web contents, as IpcMainInvokeEvent.senderFrame gives it. */
export interface FakeFrame {
  url: string;
  parent: FakeFrame | null;
}

export interface FakeElectronOptions {
  /** app.isPackaged: false runs main in development (with ELECTRON_RENDERER_URL). */
  packaged: boolean;
  /** What powerMonitor.getSystemIdleTime() answers, in seconds. */
  idleSeconds?: number;
  /** What the open/save dialogs answer (until a test changes it with answerDialogs). */
  openDialog?: Electron.OpenDialogReturnValue;
  saveDialog?: Electron.SaveDialogReturnValue;
}

/** A dialog's answer, or a function of its options giving one (run while the dialog is "open"). */
export type DialogAnswer<O, R> = R | ((options: O) => R);

/** The fake module and what it recorded. Create one per test; `module` is what vi.mock returns. */
export function createFakeElectron(opts: FakeElectronOptions) {
  const appEvents = new EventEmitter();
  let readyResolve!: () => void;
  const ready = new Promise<void>((resolve) => (readyResolve = resolve));
  const record = {
    sandboxEnabled: false,
    name: 'Electron',
    paths: new Map<string, string>(),
    quits: 0,
    exits: [] as number[],
    privilegedSchemes: [] as Electron.CustomScheme[],
    protocolHandlers: new Map<string, (request: Request) => Response | Promise<Response>>(),
    windows: [] as FakeBrowserWindow[],
    ipcHandlers: new Map<string, (event: Electron.IpcMainInvokeEvent, ...args: unknown[]) => unknown>(),
    permissionRequestHandler: null as Parameters<Electron.Session['setPermissionRequestHandler']>[0],
    permissionCheckHandler: null as Parameters<Electron.Session['setPermissionCheckHandler']>[0],
    headersReceived: [] as ((details: Electron.OnHeadersReceivedListenerDetails, callback: (response: Electron.HeadersReceivedResponse) => void) => void)[],
    applicationMenu: null as FakeMenu | null,
    errorBoxes: [] as { title: string; content: string }[],
    openDialogs: [] as { window: FakeBrowserWindow | undefined; options: Electron.OpenDialogOptions }[],
    saveDialogs: [] as { window: FakeBrowserWindow | undefined; options: Electron.SaveDialogOptions }[],
    shownInFolder: [] as string[],
    idleSeconds: opts.idleSeconds ?? 0,
  };

  const app = {
    get isPackaged() {
      return opts.packaged;
    },
    get name() {
      return record.name;
    },
    enableSandbox: () => void (record.sandboxEnabled = true),
    setName: (name: string) => void (record.name = name),
    setPath: (name: string, path: string) => void record.paths.set(name, path),
    getPath: (name: string) => record.paths.get(name) ?? `/fake/${name}`,
    getVersion: () => '0.0.0-test',
    requestSingleInstanceLock: () => true,
    whenReady: () => ready,
    on(event: string, listener: (...args: never[]) => void) {
      appEvents.on(event, listener as (...args: unknown[]) => void);
      return app;
    },
    once(event: string, listener: (...args: never[]) => void) {
      appEvents.once(event, listener as (...args: unknown[]) => void);
      return app;
    },
    /** Like Electron: before-quit first (cancellable), then the app ends. */
    quit() {
      const e = new FakeEvent();
      appEvents.emit('before-quit', e);
      if (!e.defaultPrevented) record.quits++;
    },
    exit: (code = 0) => void record.exits.push(code),
  } satisfies Partial<Record<keyof Electron.App, unknown>>;

  class FakeBrowserWindow extends EventEmitter {
    readonly webContents = new FakeWebContents();
    readonly options: Electron.BrowserWindowConstructorOptions;
    shown = false;
    minimized = false;
    focused = false;
    loadedUrl: string | null = null;

    constructor(options: Electron.BrowserWindowConstructorOptions = {}) {
      super();
      this.options = options;
      record.windows.push(this);
      // Electron announces every new web contents before the window is usable.
      appEvents.emit('web-contents-created', new FakeEvent(), this.webContents);
    }
    async loadURL(url: string): Promise<void> {
      this.loadedUrl = url;
      this.webContents.url = url;
    }
    show(): void {
      this.shown = true;
    }
    isMinimized(): boolean {
      return this.minimized;
    }
    restore(): void {
      this.minimized = false;
    }
    focus(): void {
      this.focused = true;
    }
  }

  class FakeMenu {
    constructor(readonly template: MenuItemConstructorOptions[]) {}
    static buildFromTemplate(template: MenuItemConstructorOptions[]): FakeMenu {
      return new FakeMenu(template);
    }
    static setApplicationMenu(menu: FakeMenu | null): void {
      record.applicationMenu = menu;
    }
  }

  const defaultSession = {
    setPermissionRequestHandler: (handler: Parameters<Electron.Session['setPermissionRequestHandler']>[0]) => void (record.permissionRequestHandler = handler),
    setPermissionCheckHandler: (handler: Parameters<Electron.Session['setPermissionCheckHandler']>[0]) => void (record.permissionCheckHandler = handler),
    webRequest: {
      onHeadersReceived: (listener: (typeof record.headersReceived)[number]) => void record.headersReceived.push(listener),
    },
  };

  const ipcMain = {
    handle(channel: string, listener: (event: Electron.IpcMainInvokeEvent, ...args: unknown[]) => unknown) {
      // Electron refuses a second handler for a channel.
      if (record.ipcHandlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
      record.ipcHandlers.set(channel, listener);
    },
    removeHandler: (channel: string) => void record.ipcHandlers.delete(channel),
  } satisfies Partial<Record<keyof Electron.IpcMain, unknown>>;

  const powerMonitor = Object.assign(new EventEmitter(), { getSystemIdleTime: () => record.idleSeconds });

  const protocol = {
    registerSchemesAsPrivileged: (schemes: Electron.CustomScheme[]) => void record.privilegedSchemes.push(...schemes),
    handle: (scheme: string, handler: (request: Request) => Response | Promise<Response>) => void record.protocolHandlers.set(scheme, handler),
  } satisfies Partial<Record<keyof Electron.Protocol, unknown>>;

  const answers: {
    open: DialogAnswer<Electron.OpenDialogOptions, Electron.OpenDialogReturnValue>;
    save: DialogAnswer<Electron.SaveDialogOptions, Electron.SaveDialogReturnValue>;
  } = { open: opts.openDialog ?? { canceled: true, filePaths: [] }, save: opts.saveDialog ?? { canceled: true, filePath: '' } };

  const dialog = {
    showErrorBox: (title: string, content: string) => void record.errorBoxes.push({ title, content }),
    async showOpenDialog(a: FakeBrowserWindow | Electron.OpenDialogOptions, b?: Electron.OpenDialogOptions): Promise<Electron.OpenDialogReturnValue> {
      const [window, options] = a instanceof FakeBrowserWindow ? [a, b!] : [undefined, a];
      record.openDialogs.push({ window, options });
      return typeof answers.open === 'function' ? answers.open(options) : answers.open;
    },
    async showSaveDialog(a: FakeBrowserWindow | Electron.SaveDialogOptions, b?: Electron.SaveDialogOptions): Promise<Electron.SaveDialogReturnValue> {
      const [window, options] = a instanceof FakeBrowserWindow ? [a, b!] : [undefined, a];
      record.saveDialogs.push({ window, options });
      return typeof answers.save === 'function' ? answers.save(options) : answers.save;
    },
  } satisfies Partial<Record<keyof Electron.Dialog, unknown>>;

  const shell = { showItemInFolder: (path: string) => void record.shownInFolder.push(path) } satisfies Partial<Record<keyof Electron.Shell, unknown>>;

  const module = { app, BrowserWindow: FakeBrowserWindow, Menu: FakeMenu, dialog, ipcMain, powerMonitor, protocol, session: { defaultSession }, shell };

  return {
    module: { ...module, default: module },
    record,
    appEvents,
    powerMonitor,
    /** What the open and save dialogs answer from now on (the user picking, or cancelling). */
    answerDialogs(next: Partial<typeof answers>): void {
      Object.assign(answers, next);
    },
    /** Electron's 'ready': app.whenReady() resolves. */
    ready: () => {
      readyResolve();
      appEvents.emit('ready');
    },
    /** Invokes an IPC channel as the renderer would, from `sender` and `frame`. */
    invoke(channel: string, from: { sender: FakeWebContents; frame: FakeFrame | null }, ...args: unknown[]): Promise<unknown> {
      const handler = record.ipcHandlers.get(channel);
      if (!handler) throw new Error(`no handler for ${channel}`);
      const event = { sender: from.sender, senderFrame: from.frame, processId: 1, frameId: 1 } as unknown as Electron.IpcMainInvokeEvent;
      return Promise.resolve(handler(event, ...args));
    },
  };
}

export type FakeElectron = ReturnType<typeof createFakeElectron>;
export type FakeBrowserWindowInstance = FakeElectron['record']['windows'][number];
