// The preload (docs/architecture.md, "Processes and trust"): exposes exactly the IPC contract as `window.custody`,
// one function per method plus `on(event, listener)`. The page never sees ipcRenderer, an
// IPC event object or any Node API; main validates every call again anyway.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { channelOf, EVENT_CHANNEL, METHOD_NAMES, type CustodyBridge, type EventName, type Events } from '../shared/contract.ts';

const EVENTS: Record<EventName, true> = { progress: true, locked: true, 'index.ready': true, command: true };

const bridge: Record<string, unknown> = {};
for (const method of METHOD_NAMES) bridge[method] = (request: unknown) => ipcRenderer.invoke(channelOf(method), request ?? {});

bridge.on = <E extends EventName>(event: E, listener: (payload: Events[E]) => void): (() => void) => {
  if (!Object.hasOwn(EVENTS, event)) throw new Error(`unknown event "${String(event)}"`);
  if (typeof listener !== 'function') throw new Error('the listener must be a function');
  const relay = (_e: IpcRendererEvent, name: unknown, payload: unknown) => {
    if (name === event) listener(payload as Events[E]);
  };
  ipcRenderer.on(EVENT_CHANNEL, relay);
  return () => {
    ipcRenderer.removeListener(EVENT_CHANNEL, relay);
  };
};

contextBridge.exposeInMainWorld('custody', Object.freeze(bridge) as CustodyBridge);
