// Keys of an unlocked vault. Only this object holds them; lock() overwrites them. Once wiped,
// every getter throws: code still holding the keyring after a lock gets an error, never a
// zeroed key to encrypt or sign with.
//
// A vault may have several epoch roots (docs/keys.md): each serves a range of UTC days, and
// epochKey(day) takes, among the roots whose range holds the day, a bounded one (record-keys)
// before an unbounded one, then the one starting latest.
// Only the days (bound to each root's wrap, keys/rootWrap.ts) decide: status and creation time
// are clear registry columns anyone with the folder could edit. Everyone derives epoch keys
// through epochKey(day) only, so a rotation changes which root a day uses in one place.
import { epochKey, keyMaterial, wipe } from '../crypto/keys.ts';

/** An epoch root and the UTC days it serves (null = unbounded on that side). */
export interface EpochRoot {
  id: string;
  root: Buffer;
  fromDay: string | null;
  untilDay: string | null;
  /** Creation time (ms), informational only: it plays no part in choosing a root. */
  createdAt: number;
}

const holds = (r: EpochRoot, day: string) => (r.fromDay === null || r.fromDay <= day) && (r.untilDay === null || day <= r.untilDay);

export class Keyring {
  readonly #epochKeys = new Map<string, Buffer>();
  readonly #vaultKey: Buffer;
  #roots: EpochRoot[];
  readonly #signingSeed: Buffer;
  /** Vault keys this one replaced: only for what cannot be re-wrapped (sealed openings in the log). */
  readonly #previousVaultKeys: Buffer[];
  #wiped = false;

  constructor(vaultKey: Buffer, roots: Buffer | readonly EpochRoot[], signingSeed: Buffer, previousVaultKeys: readonly Buffer[] = []) {
    this.#vaultKey = vaultKey;
    this.#roots = sortRoots(Buffer.isBuffer(roots) ? [{ id: 'epoch-root', root: roots, fromDay: null, untilDay: null, createdAt: 0 }] : [...roots]);
    if (this.#roots.length === 0) throw new Error('a keyring needs an epoch root');
    this.#signingSeed = signingSeed;
    this.#previousVaultKeys = [...previousVaultKeys];
  }

  #live<T>(v: T): T {
    if (this.#wiped) throw new Error('keyring was wiped (the vault was locked)');
    return v;
  }

  get vaultKey(): Buffer {
    return this.#live(this.#vaultKey);
  }

  /** The current vault key, then the ones it replaced (newest first). */
  get vaultKeys(): readonly Buffer[] {
    return this.#live([this.#vaultKey, ...this.#previousVaultKeys]);
  }

  /** The root that serves new days (the latest-starting root without an end). */
  get epochRoot(): Buffer {
    return this.#live(this.#current().root);
  }

  /** Id of the root that serves `day` (the key registry row). */
  epochRootId(day: string): string {
    return this.#live(this.#rootFor(day).id);
  }

  #current(): EpochRoot {
    return this.#roots.find((r) => r.untilDay === null) ?? this.#roots[0]!;
  }

  #rootFor(day: string): EpochRoot {
    const r = this.#roots.find((x) => holds(x, day));
    // The first root has no start in every vault; a registry with a gap is damaged.
    if (!r) throw new Error(`no epoch root serves ${day}`);
    return r;
  }

  /** Ed25519 seed of this device's signing key (checkpoints, manifests). */
  get signingSeed(): Buffer {
    return this.#live(this.#signingSeed);
  }

  /** The key of one UTC day, from the root that serves it; cached, since a day's records share it. */
  epochKey(day: string): Buffer {
    let k = this.#live(this.#epochKeys.get(day));
    if (!k) {
      k = epochKey(this.#rootFor(day).root, day);
      this.#epochKeys.set(day, k);
    }
    return k;
  }

  /** The key of `day` under a given root (rotation re-wraps from one root to another). */
  epochKeyUnder(rootId: string, day: string): Buffer {
    const r = this.#live(this.#roots.find((x) => x.id === rootId));
    if (!r) throw new Error(`unknown epoch root ${rootId}`);
    return epochKey(r.root, day);
  }

  /**
   * Replaces the roots after a rotation committed (the keyring takes ownership of new ones).
   * Cached day keys are dropped: a day may now be served by another root.
   */
  setRoots(roots: readonly EpochRoot[]): void {
    this.#live(null);
    const keep = new Set(roots.map((r) => r.root));
    wipe(...this.#roots.filter((r) => !keep.has(r.root)).map((r) => r.root), ...this.#epochKeys.values());
    this.#epochKeys.clear();
    this.#roots = sortRoots([...roots]);
  }

  /** Adds a root a rotation just committed (the keyring takes ownership of it). */
  addRoot(root: EpochRoot): void {
    this.#live(null);
    wipe(...this.#epochKeys.values());
    this.#epochKeys.clear();
    this.#roots = sortRoots([...this.#roots, root]);
  }

  /** Moves a root's last (and maybe first) day after a committed step of a rotation (keys/recordKeys.ts, epochRootRotation.ts). */
  extendRoot(id: string, untilDay: string | null, fromDay?: string | null): void {
    const r = this.#live(this.#roots.find((x) => x.id === id));
    if (!r) throw new Error(`unknown epoch root ${id}`);
    r.untilDay = untilDay;
    if (fromDay !== undefined) r.fromDay = fromDay;
    this.#roots = sortRoots(this.#roots);
    wipe(...this.#epochKeys.values());
    this.#epochKeys.clear();
  }

  /** Replaces the signing seed in place after a device key rotation committed. */
  replaceSigningSeed(seed: Buffer): void {
    this.#live(null);
    this.#signingSeed.set(seed);
    wipe(seed);
  }

  /** Replaces the vault key in place after a vault key rotation committed; the old one is kept for the log's sealed openings. */
  replaceVaultKey(vk: Buffer): void {
    this.#live(null);
    this.#previousVaultKeys.unshift(keyMaterial(Buffer.from(this.#vaultKey)));
    this.#vaultKey.set(vk);
    wipe(vk);
  }

  get wiped(): boolean {
    return this.#wiped;
  }

  wipe(): void {
    wipe(this.#vaultKey, this.#signingSeed, ...this.#roots.map((r) => r.root), ...this.#previousVaultKeys, ...this.#epochKeys.values());
    this.#epochKeys.clear();
    this.#wiped = true;
  }
}

/**
 * The first root holding a day serves it: bounded roots (a record-keys re-encryption of a range)
 * first, then the latest from_day (null lowest); equal starts fall back to the id (uuidv7, also
 * bound to the wrap): the later-made root wins. Rotations keep this order right (keys/).
 */
function sortRoots(roots: EpochRoot[]): EpochRoot[] {
  const start = (r: EpochRoot) => r.fromDay ?? '';
  const bounded = (r: EpochRoot) => (r.untilDay === null ? 0 : 1);
  return roots.sort((a, b) => bounded(b) - bounded(a) || (start(a) !== start(b) ? (start(a) < start(b) ? 1 : -1) : a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}
