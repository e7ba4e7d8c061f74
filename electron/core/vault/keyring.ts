// Keys of an unlocked vault. Only this object holds them; lock() overwrites them.
import { epochKey, wipe } from '../crypto/keys.ts';

export class Keyring {
  readonly #epochKeys = new Map<string, Buffer>();
  #wiped = false;

  constructor(
    readonly vaultKey: Buffer,
    readonly epochRoot: Buffer,
    /** Ed25519 seed of this device's signing key (checkpoints, manifests). */
    readonly signingSeed: Buffer,
  ) {}

  /** The key of one UTC day; cached, since a day's records share it. */
  epochKey(day: string): Buffer {
    if (this.#wiped) throw new Error('keyring was wiped');
    let k = this.#epochKeys.get(day);
    if (!k) {
      k = epochKey(this.epochRoot, day);
      this.#epochKeys.set(day, k);
    }
    return k;
  }

  wipe(): void {
    wipe(this.vaultKey, this.epochRoot, this.signingSeed, ...this.#epochKeys.values());
    this.#epochKeys.clear();
    this.#wiped = true;
  }
}
