// Typed fields of an observation: add, remove, change type; locations take lat/lon/label.
// Every input is named "Field N …" so it is reachable by screen readers and by tests.
import { FIELD_TYPES, type Field, type FieldType } from '../../../electron/shared/records.ts';
import { emptyField, type DraftField } from '../lib/draft.ts';
import { formatDate } from '../lib/format.ts';
import { Icon } from './Icon.tsx';

const TYPE_LABEL: Record<FieldType, string> = { text: 'Text', number: 'Number', date: 'Date', location: 'Location' };

export function FieldsEditor({ fields, onChange }: { fields: DraftField[]; onChange(f: DraftField[]): void }) {
  const update = (key: number, patch: Partial<DraftField>) => onChange(fields.map((f) => (f.key === key ? { ...f, ...patch } : f)));
  return (
    <fieldset className="fields-editor">
      <legend>Observation fields</legend>
      {fields.length === 0 && <p className="muted small">No fields yet. Add measured values, dates or places.</p>}
      {fields.map((f, i) => {
        const n = i + 1;
        return (
          <div key={f.key} className={`field-row field-row-${f.type}`}>
            <input className="field-name" aria-label={`Field ${n} name`} placeholder="Name" value={f.name} maxLength={100} onChange={(e) => update(f.key, { name: e.target.value })} />
            <select className="field-type" aria-label={`Field ${n} type`} value={f.type} onChange={(e) => update(f.key, { type: e.target.value as FieldType })}>
              {FIELD_TYPES.map((t) => (
                <option key={t} value={t}>
                  {TYPE_LABEL[t]}
                </option>
              ))}
            </select>
            {f.type === 'location' ? (
              <div className="field-location">
                <input aria-label={`Field ${n} latitude`} placeholder="Latitude" inputMode="decimal" value={f.lat} onChange={(e) => update(f.key, { lat: e.target.value })} />
                <input aria-label={`Field ${n} longitude`} placeholder="Longitude" inputMode="decimal" value={f.lon} onChange={(e) => update(f.key, { lon: e.target.value })} />
                <input aria-label={`Field ${n} place label`} placeholder="Label (optional)" value={f.label} maxLength={200} onChange={(e) => update(f.key, { label: e.target.value })} />
              </div>
            ) : (
              <input
                className="field-value"
                aria-label={`Field ${n} value`}
                placeholder={f.type === 'number' ? '0' : 'Value'}
                type={f.type === 'date' && !f.value.includes('T') ? 'date' : 'text'}
                inputMode={f.type === 'number' ? 'decimal' : undefined}
                value={f.value}
                onChange={(e) => update(f.key, { value: e.target.value })}
              />
            )}
            <button type="button" className="icon-button" aria-label={`Remove field ${n}`} onClick={() => onChange(fields.filter((x) => x.key !== f.key))}>
              <Icon name="minus" />
            </button>
          </div>
        );
      })}
      <button type="button" className="button button-small" onClick={() => onChange([...fields, emptyField()])}>
        <Icon name="plus" size={14} /> Add field
      </button>
    </fieldset>
  );
}

export function fieldValueText(f: Field): string {
  switch (f.type) {
    case 'number':
      return f.value.toLocaleString();
    case 'date':
      return /^\d{4}-\d{2}-\d{2}$/.test(f.value) ? formatDate(`${f.value}T12:00:00`) : new Date(f.value).toLocaleString();
    case 'location':
      return `${f.value.label ? `${f.value.label} · ` : ''}${f.value.lat.toFixed(5)}, ${f.value.lon.toFixed(5)}`;
    default:
      return f.value;
  }
}

export function FieldsView({ fields, changed }: { fields: Field[]; changed?: Set<number> }) {
  if (fields.length === 0) return <p className="muted small">No fields.</p>;
  return (
    <dl className="fields-view">
      {fields.map((f, i) => (
        <div key={`${f.name}-${i}`} className={changed?.has(i) ? 'changed' : undefined}>
          <dt>
            {f.name} <span className="field-type-tag">{TYPE_LABEL[f.type]}</span>
          </dt>
          <dd>{fieldValueText(f)}</dd>
        </div>
      ))}
    </dl>
  );
}
