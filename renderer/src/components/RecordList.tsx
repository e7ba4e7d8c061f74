// The virtualised record list. Only the rows on screen exist in the DOM, and only the pages
// around them are fetched, so 100k records scroll like 100. Keyboard: arrows/PageUp/
// PageDown/Home/End move, Enter opens; the list is one tab stop (aria-activedescendant).
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, type KeyboardEvent } from 'react';
import type { RecordSummary } from '../../../electron/shared/records.ts';
import { formatDate } from '../lib/format.ts';
import { useRecord } from '../stores/record.ts';
import { rowAt, useRecords } from '../stores/records.ts';
import { useUi } from '../stores/ui.ts';
import { ClassificationBadge, KindIcon, TagChips } from './Badges.tsx';

const ROW_HEIGHT = 64;

function Row({ r }: { r: RecordSummary }) {
  return (
    <>
      <div className="row-line">
        <KindIcon kind={r.kind} />
        <span className="row-title">{r.title}</span>
        <ClassificationBadge value={r.classification} />
      </div>
      <div className="row-line row-meta">
        {r.case && <span className="row-case">{r.case}</span>}
        <TagChips tags={r.tags} max={3} />
        <time className="row-date" dateTime={r.capturedAt}>
          {formatDate(r.capturedAt)}
        </time>
      </div>
    </>
  );
}

export function RecordList({ label }: { label: string }) {
  const total = useRecords((s) => s.total);
  const pages = useRecords((s) => s.pages);
  const activeIndex = useRecords((s) => s.activeIndex);
  const generation = useRecords((s) => s.generation);
  const setActiveIndex = useRecords((s) => s.setActiveIndex);
  const ensureRange = useRecords((s) => s.ensureRange);
  const selectedId = useRecord((s) => s.selectedId);
  const scrollRef = useRef<HTMLDivElement>(null);

  const virtualizer = useVirtualizer({ count: total, getScrollElement: () => scrollRef.current, estimateSize: () => ROW_HEIGHT, overscan: 12 });
  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items.at(-1)?.index ?? 0;

  useEffect(() => {
    ensureRange(first, last);
  }, [first, last, generation, total, ensureRange]);

  // A new query starts at the top.
  useEffect(() => {
    scrollRef.current?.scrollTo({ top: 0 });
  }, [generation]);

  const open = (i: number) => {
    const r = rowAt(useRecords.getState().pages, i);
    if (!r) return;
    setActiveIndex(i);
    if (r.id !== useRecord.getState().selectedId) useUi.getState().guard(() => void useRecord.getState().open(r.id));
  };

  const move = (i: number) => {
    const next = Math.max(0, Math.min(total - 1, i));
    setActiveIndex(next);
    virtualizer.scrollToIndex(next, { align: 'auto' });
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (total === 0) return;
    const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? 600) / ROW_HEIGHT) - 1);
    const keys: Record<string, () => void> = {
      ArrowDown: () => move(activeIndex + 1),
      ArrowUp: () => move(activeIndex - 1),
      PageDown: () => move(activeIndex + page),
      PageUp: () => move(activeIndex - page),
      Home: () => move(0),
      End: () => move(total - 1),
      Enter: () => open(activeIndex),
    };
    const action = keys[e.key];
    if (action && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      action();
    }
  };

  // aria-activedescendant must name an element that exists: the active row, when rendered.
  const activeRendered = rowAt(pages, activeIndex) !== undefined && items.some((i) => i.index === activeIndex);

  return (
    <div
      ref={scrollRef}
      className="record-list"
      role="listbox"
      aria-label={label}
      tabIndex={0}
      aria-activedescendant={total > 0 && activeRendered ? `record-row-${activeIndex}` : undefined}
      onKeyDown={onKeyDown}
    >
      <div className="record-list-inner" style={{ height: virtualizer.getTotalSize() }}>
        {items.map((item) => {
          const r = rowAt(pages, item.index);
          const cls = ['record-row', item.index === activeIndex ? 'active' : '', r && r.id === selectedId ? 'selected' : ''].filter(Boolean).join(' ');
          return (
            <div
              key={item.key}
              id={`record-row-${item.index}`}
              className={cls}
              role="option"
              aria-selected={r ? r.id === selectedId : false}
              aria-setsize={total}
              aria-posinset={item.index + 1}
              aria-busy={r ? undefined : true}
              style={{ transform: `translateY(${item.start}px)`, height: ROW_HEIGHT }}
              onMouseDown={(e) => e.preventDefault()}
              onClick={() => {
                scrollRef.current?.focus({ preventScroll: true });
                open(item.index);
              }}
            >
              {r ? (
                <Row r={r} />
              ) : (
                <div className="row-skeleton" aria-hidden="true">
                  <span />
                  <span />
                </div>
              )}
            </div>
          );
        })}
      </div>
    </div>
  );
}
