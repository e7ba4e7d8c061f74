// Kind and classification markers, used in the list, the record view and history.
import type { Classification, RecordKind } from '../../../electron/shared/records.ts';
import { Icon } from './Icon.tsx';

const KIND_LABEL: Record<RecordKind, string> = { note: 'Note', observation: 'Observation', file: 'File' };
export const kindLabel = (k: RecordKind): string => KIND_LABEL[k];

const CLASS_LABEL: Record<Classification, string> = { public: 'Public', internal: 'Internal', confidential: 'Confidential', restricted: 'Restricted' };
export const classificationLabel = (c: Classification): string => CLASS_LABEL[c];

export function KindIcon({ kind }: { kind: RecordKind }) {
  return (
    <span className={`kind-icon kind-${kind}`} title={KIND_LABEL[kind]}>
      <Icon name={kind} size={16} />
      <span className="visually-hidden">{KIND_LABEL[kind]}</span>
    </span>
  );
}

export function KindBadge({ kind }: { kind: RecordKind }) {
  return (
    <span className={`badge kind-badge kind-${kind}`}>
      <Icon name={kind} size={13} />
      {KIND_LABEL[kind]}
    </span>
  );
}

export function ClassificationBadge({ value }: { value: Classification }) {
  return <span className={`badge class-badge class-${value}`}>{CLASS_LABEL[value]}</span>;
}

export function TagChips({ tags, max }: { tags: string[]; max?: number }) {
  const shown = max !== undefined ? tags.slice(0, max) : tags;
  const rest = tags.length - shown.length;
  return (
    <span className="tag-chips">
      {shown.map((t) => (
        <span key={t} className="chip">
          {t}
        </span>
      ))}
      {rest > 0 && <span className="chip chip-more">+{rest}</span>}
    </span>
  );
}
