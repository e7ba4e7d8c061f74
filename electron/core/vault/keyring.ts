// Keys of an unlocked vault. Only this object holds them; lock() overwrites them. Once wiped,
// every getter throws: code still holding the keyring after a lock gets an error, never a
// zeroed key to encrypt or sign with.
import { epochKey, wipe } from '../crypto/keys.ts';

export class Keyring {
  readonly #epochKeys = new Map<string, Buffer>();
  readonly #vaultKey: Buffer;
  readonly #epochRoot: Buffer;
  readonly #signingSeed: Buffer;
  #wiped = false;

  constructor(vaultKey: Buffer, epochRoot: Buffer, signingSeed: Buffer) {
    this.#vaultKey = vaultKey;
    this.#epochRoot = epochRoot;
    this.#signingSeed = signingSeed;
  }

  #live<T>(v: T): T {
    if (this.#wiped) throw new Error('keyring was wiped (the vault was locked)');
    return v;
  }

  get vaultKey(): Buffer {
    return this.#live(this.#vaultKey);
  }

  get epochRoot(): Buffer {
    return this.#live(this.#epochRoot);
  }

  /** Ed25519 seed of this device's signing key (checkpoints, manifests). */
  get signingSeed(): Buffer {
    return this.#live(this.#signingSeed);
  }

  /** The key of one UTC day; cached, since a day's records share it. */
  epochKey(day: string): Buffer {
    let k = this.#live(this.#epochKeys.get(day));
    if (!k) {
      k = epochKey(this.#epochRoot, day);
      this.#epochKeys.set(day, k);
    }
    return k;
  }

  get wiped(): boolean {
    return this.#wiped;
  }

  wipe(): void {
    wipe(this.#vaultKey, this.#epochRoot, this.#signingSeed, ...this.#epochKeys.values());
    this.#epochKeys.clear();
    this.#wiped = true;
  }
}
