// Search-as-you-type plus filters (kind, classification, case, tag, captured range).
// The text is debounced in the store; the filters apply at once.
import { useEffect, useId, useRef, useState } from 'react';
import { CLASSIFICATIONS, RECORD_KINDS, type Classification, type RecordKind } from '../../../electron/shared/records.ts';
import { plural } from '../lib/format.ts';
import { shortcut } from '../lib/platform.ts';
import { hasActiveFilters, useRecords, type Filters } from '../stores/records.ts';
import { useProgress } from '../stores/progress.ts';
import { useUi } from '../stores/ui.ts';
import { classificationLabel, kindLabel } from './Badges.tsx';
import { ProgressBar, Spinner } from './Feedback.tsx';
import { Icon } from './Icon.tsx';

export function FilterBar({ trash }: { trash: boolean }) {
  const filters = useRecords((s) => s.filters);
  const facets = useRecords((s) => s.facets);
  const total = useRecords((s) => s.total);
  const status = useRecords((s) => s.status);
  const indexReady = useRecords((s) => s.indexReady);
  const setText = useRecords((s) => s.setText);
  const setFilter = useRecords((s) => s.setFilter);
  const clearFilters = useRecords((s) => s.clearFilters);
  const focusRequest = useUi((s) => s.searchFocusRequest);
  const indexing = useProgress((s) => s.byOp.index);
  const searchRef = useRef<HTMLInputElement>(null);
  const [open, setOpen] = useState(false);
  const id = useId();

  useEffect(() => {
    if (focusRequest) {
      searchRef.current?.focus();
      searchRef.current?.select();
    }
  }, [focusRequest]);

  const { text: _text, ...rest } = filters;
  const activeCount = Object.values(rest).filter(Boolean).length;
  const filtered = hasActiveFilters(filters);

  const select = <K extends 'kind' | 'classification' | 'case' | 'tag'>(key: K, label: string, options: { value: string; label: string }[]) => (
    <div className="field field-compact">
      <label htmlFor={`${id}-${key}`}>{label}</label>
      <select id={`${id}-${key}`} value={filters[key]} onChange={(e) => setFilter(key, e.target.value as Filters[K])}>
        <option value="">Any</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );

  return (
    <div className="filter-bar">
      <div className="search-box">
        <Icon name="search" className="search-icon" />
        <input
          ref={searchRef}
          type="search"
          aria-label={trash ? 'Search the Trash' : 'Search records'}
          placeholder={`Search${trash ? ' the Trash' : ''}…  (${shortcut('F')} or /)`}
          value={filters.text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape' && filters.text) {
              e.preventDefault();
              e.stopPropagation();
              setText('');
            } else if (e.key === 'ArrowDown') {
              e.preventDefault();
              document.querySelector<HTMLElement>('.record-list')?.focus();
            }
          }}
          spellCheck={false}
        />
      </div>
      <div className="filter-summary">
        <button type="button" className={`button button-small button-ghost${activeCount ? ' has-count' : ''}`} aria-expanded={open} aria-controls={`${id}-panel`} onClick={() => setOpen(!open)}>
          <Icon name="chevronDown" size={14} className={open ? 'rotated' : undefined} />
          Filters{activeCount ? <span className="count-badge">{activeCount}</span> : null}
        </button>
        <span className="result-count" aria-live="polite">
          {status === 'loading' && total === 0 ? <Spinner size={12} /> : `${plural(total, trash ? 'record in Trash' : 'record', trash ? 'records in Trash' : 'records')}${indexReady ? '' : ' so far'}`}
        </span>
        {filtered && (
          <button type="button" className="link-button" onClick={clearFilters}>
            Clear
          </button>
        )}
      </div>
      {!indexReady && (
        <div className="index-hint" role="status">
          {indexing && indexing.total > 0 ? (
            <ProgressBar label={`Search index building… ${indexing.done.toLocaleString()} of ${indexing.total.toLocaleString()} records`} event={indexing} compact />
          ) : (
            <p>
              <Spinner size={12} /> Search index building… results update when it is ready.
            </p>
          )}
        </div>
      )}
      {open && (
        <div id={`${id}-panel`} className="filter-panel" role="group" aria-label="Filters">
          {select('kind', 'Kind', RECORD_KINDS.map((k: RecordKind) => ({ value: k, label: kindLabel(k) })))}
          {select('classification', 'Classification', CLASSIFICATIONS.map((c: Classification) => ({ value: c, label: classificationLabel(c) })))}
          {select('case', 'Case', facets.cases.map((c) => ({ value: c, label: c })))}
          {select('tag', 'Tag', facets.tags.map((t) => ({ value: t, label: t })))}
          <div className="field field-compact">
            <label htmlFor={`${id}-from`}>Captured from</label>
            <input id={`${id}-from`} type="date" value={filters.from} max={filters.to || undefined} onChange={(e) => setFilter('from', e.target.value)} />
          </div>
          <div className="field field-compact">
            <label htmlFor={`${id}-to`}>Captured to</label>
            <input id={`${id}-to`} type="date" value={filters.to} min={filters.from || undefined} onChange={(e) => setFilter('to', e.target.value)} />
          </div>
        </div>
      )}
    </div>
  );
}
