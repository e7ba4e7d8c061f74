// Ctrl/Cmd+K: every action by name. A combobox over a listbox; arrows move, Enter runs.
import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { ACTIONS, runAction, type Action } from '../stores/actions.ts';
import { useUi } from '../stores/ui.ts';
import { Icon } from './Icon.tsx';

function matches(a: Action, q: string): boolean {
  const hay = `${a.title} ${a.keywords}`.toLowerCase();
  return q
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((w) => hay.includes(w));
}

export function CommandPalette() {
  const setOpen = useUi((s) => s.setPaletteOpen);
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const inputRef = useRef<HTMLInputElement>(null);
  const listId = useId();
  const results = useMemo(() => ACTIONS.filter((a) => matches(a, query)), [query]);
  const close = () => setOpen(false);

  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    inputRef.current?.focus();
    return () => {
      if (opener && document.contains(opener) && !document.querySelector('[aria-modal="true"]')) opener.focus();
    };
  }, []);

  const run = (a: Action | undefined) => {
    if (!a) return;
    close();
    // Let the palette unmount (and focus return) before the action moves focus itself.
    setTimeout(() => runAction(a.id), 0);
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown') setActive((i) => Math.min(results.length - 1, i + 1));
    else if (e.key === 'ArrowUp') setActive((i) => Math.max(0, i - 1));
    else if (e.key === 'Enter') run(results[active]);
    else if (e.key === 'Escape') {
      e.stopPropagation();
      close();
    } else if (e.key === 'Tab') {
      // The palette is a single control: keep focus in it.
    } else return;
    e.preventDefault();
  };

  return (
    <div className="dialog-backdrop palette-backdrop" onMouseDown={(e) => e.target === e.currentTarget && close()}>
      <div className="palette" role="dialog" aria-modal="true" aria-label="Command palette" onKeyDown={onKeyDown}>
        <div className="palette-input">
          <Icon name="command" />
          <input
            ref={inputRef}
            role="combobox"
            aria-expanded="true"
            aria-controls={listId}
            aria-activedescendant={results[active] ? `${listId}-${results[active].id}` : undefined}
            aria-label="Type a command"
            placeholder="Type a command…"
            value={query}
            onChange={(e) => {
              setQuery(e.target.value);
              setActive(0);
            }}
          />
        </div>
        <ul id={listId} role="listbox" aria-label="Commands" className="palette-list">
          {results.length === 0 && <li className="palette-empty">No matching command</li>}
          {results.map((a, i) => (
            <li key={a.id} id={`${listId}-${a.id}`} role="option" aria-selected={i === active} className={i === active ? 'active' : undefined} onMouseMove={() => setActive(i)} onClick={() => run(a)}>
              <span>{a.title}</span>
              {a.hint && <kbd>{a.hint}</kbd>}
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}
