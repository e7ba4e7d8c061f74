// Records (or the Trash): list with search and filters on the left, the record on the right.
import { useEffect, useState } from 'react';
import { DiscloseDialog, type DisclosePreset } from '../components/DiscloseDialog.tsx';
import { EmptyState, ProgressBar } from '../components/Feedback.tsx';
import { FilterBar } from '../components/FilterBar.tsx';
import { Icon } from '../components/Icon.tsx';
import { ImportButton } from '../components/ImportButton.tsx';
import { RecordList } from '../components/RecordList.tsx';
import { RecordPane } from '../components/RecordPane.tsx';
import { shortcut } from '../lib/platform.ts';
import { runAction } from '../stores/actions.ts';
import { useProgress } from '../stores/progress.ts';
import { useRecord } from '../stores/record.ts';
import { hasActiveFilters, useRecords } from '../stores/records.ts';

export function RecordsScreen({ trash }: { trash: boolean }) {
  const total = useRecords((s) => s.total);
  const status = useRecords((s) => s.status);
  const error = useRecords((s) => s.error);
  const filtered = useRecords((s) => hasActiveFilters(s.filters));
  const clearFilters = useRecords((s) => s.clearFilters);
  const importing = useProgress((s) => s.byOp.import);
  const editing = useRecord((s) => s.mode !== 'view');
  const [disclose, setDisclose] = useState<DisclosePreset | null>(null);

  useEffect(() => {
    useRecords.getState().setTrash(trash);
  }, [trash]);

  useEffect(() => {
    void useRecords.getState().loadFacets();
  }, []);

  const empty = status === 'ready' && total === 0;
  const vaultEmpty = empty && !trash && !filtered;

  let list;
  if (status === 'error' && total === 0)
    list = (
      <EmptyState icon="alert" title="Search failed" actions={<button type="button" className="button" onClick={() => void useRecords.getState().run()}>Try again</button>}>
        {error}
      </EmptyState>
    );
  else if (empty && filtered)
    list = (
      <EmptyState icon="search" title="No matching records" actions={<button type="button" className="button" onClick={clearFilters}>Clear search and filters</button>}>
        Try fewer words, or remove a filter.
      </EmptyState>
    );
  else if (empty && trash) list = <EmptyState icon="trash" title="The Trash is empty">Records you move to the Trash wait here until you restore them or delete them forever.</EmptyState>;
  else list = <RecordList label={trash ? 'Records in Trash' : 'Records'} />;

  return (
    <div className="screen records-screen">
      <header className="screen-header">
        <div>
          <h1>{trash ? 'Trash' : 'Records'}</h1>
          {trash && <p className="screen-subtitle">Restore records or delete them forever.</p>}
        </div>
        {!trash && (
          <div className="header-actions">
            <ImportButton />
            <button type="button" className="button" onClick={() => setDisclose(disclosePreset())} title="Disclose the open record, the current search, its case or its period to a reviewer">
              <Icon name="upload" size={14} /> Disclose…
            </button>
            <button type="button" className="button button-primary" onClick={() => runAction('new-record')} title={`New record (${shortcut('N')})`}>
              <Icon name="plus" size={14} /> New record
            </button>
          </div>
        )}
      </header>
      {importing && (
        <div className="screen-progress">
          <ProgressBar label="Importing records…" event={importing} />
        </div>
      )}
      {vaultEmpty && !editing ? (
        <div className="records-empty">
          <EmptyState
            icon="shield"
            title="No records yet"
            actions={
              <>
                <button type="button" className="button button-primary" onClick={() => runAction('new-record')}>
                  <Icon name="plus" size={14} /> Create your first record
                </button>
                <button type="button" className="button" onClick={() => runAction('import')}>
                  <Icon name="import" size={14} /> Import a file
                </button>
              </>
            }
          >
            Create your first record ({shortcut('N')}) or import a CSV/JSON file. Everything you add is encrypted on this device, and every access is written to the tamper-evident audit log.
          </EmptyState>
        </div>
      ) : (
        <div className="split">
          <div className="list-pane">
            <FilterBar trash={trash} />
            {list}
          </div>
          <RecordPane trash={trash} />
        </div>
      )}
      {disclose && <DiscloseDialog preset={disclose} onClose={() => setDisclose(null)} />}
    </div>
  );
}

/** What the Records screen shows now, as a starting point for a disclosure: the open record, the search results, the case filter, the period. */
function disclosePreset(): DisclosePreset {
  const { filters, pages } = useRecords.getState();
  const open = useRecord.getState().record;
  const rows = Object.values(pages).flat();
  const days = rows.map((r) => r.capturedAt.slice(0, 10)).sort();
  const preset: DisclosePreset = {
    from: filters.from || days[0],
    until: filters.to || days.at(-1),
    ...(filters.case ? { case: filters.case } : {}),
    ...(filters.tag ? { tag: filters.tag } : {}),
    ...(filters.classification ? { maxClassification: filters.classification } : {}),
  };
  if (open && !open.deletedAt) return { ...preset, from: open.capturedAt.slice(0, 10), until: open.capturedAt.slice(0, 10), records: [open.id], recordsLabel: 'The open record', scope: 'records' };
  if (filters.text.trim() && rows.length > 0 && rows.length <= 10_000) return { ...preset, records: rows.map((r) => r.id), recordsLabel: `The ${rows.length} search results` };
  return preset;
}
