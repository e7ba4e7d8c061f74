// Tags as removable chips; Enter or comma adds, Backspace on an empty input removes the last.
// Known tags are offered through a datalist so spelling stays consistent across records.
import { useId, useState, type KeyboardEvent } from 'react';
import { Icon } from './Icon.tsx';

interface Props {
  tags: string[];
  onChange(tags: string[]): void;
  suggestions: string[];
  label?: string;
}

export function TagInput({ tags, onChange, suggestions, label = 'Tags' }: Props) {
  const [text, setText] = useState('');
  const inputId = useId();
  const listId = useId();

  const add = (raw: string) => {
    const parts = raw.split(',').map((t) => t.trim().slice(0, 64)).filter(Boolean);
    const next = [...tags];
    for (const p of parts) if (!next.some((t) => t.toLowerCase() === p.toLowerCase())) next.push(p);
    if (next.length !== tags.length) onChange(next.slice(0, 64));
    setText('');
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if ((e.key === 'Enter' || e.key === ',') && text.trim()) {
      e.preventDefault();
      add(text);
    } else if (e.key === 'Enter') {
      e.preventDefault();
    } else if (e.key === 'Backspace' && !text && tags.length) {
      onChange(tags.slice(0, -1));
    }
  };

  return (
    <div className="field">
      <label htmlFor={inputId}>{label}</label>
      <div className="tag-input" onClick={() => document.getElementById(inputId)?.focus()}>
        {tags.map((t) => (
          <span key={t} className="chip chip-removable">
            {t}
            <button type="button" aria-label={`Remove tag ${t}`} onClick={() => onChange(tags.filter((x) => x !== t))}>
              <Icon name="close" size={12} />
            </button>
          </span>
        ))}
        <input
          id={inputId}
          list={listId}
          value={text}
          placeholder={tags.length ? '' : 'Type a tag and press Enter'}
          onChange={(e) => (e.target.value.endsWith(',') ? add(e.target.value) : setText(e.target.value))}
          onKeyDown={onKeyDown}
          onBlur={() => text.trim() && add(text)}
          aria-label={label === 'Tags' ? 'Add tag' : label}
        />
        <datalist id={listId}>
          {suggestions
            .filter((s) => !tags.includes(s))
            .slice(0, 200)
            .map((s) => (
              <option key={s} value={s} />
            ))}
        </datalist>
      </div>
    </div>
  );
}
