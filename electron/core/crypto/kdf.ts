// Master password -> key-encryption key with Argon2id (docs/architecture.md, "Keys and formats").
import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { CustodyError } from '../../shared/errors.ts';
import { keyMaterial, wipe } from './keys.ts';

export interface KdfParams {
  algorithm: 'argon2id';
  /** Memory in KiB. */
  memoryKiB: number;
  iterations: number;
  parallelism: number;
  /** base64, 16 bytes. */
  salt: string;
}

/** Bitwarden's defaults: 64 MiB, 3 passes, 4 lanes. */
export const KDF_DEFAULTS = { memoryKiB: 64 * 1024, iterations: 3, parallelism: 4 } as const;
/**
 * Below this a header is refused: it is a downgrade, not a vault we made. OWASP's minimum for
 * Argon2id (password storage cheat sheet): 19 MiB with 2 passes.
 */
export const KDF_FLOOR = { memoryKiB: 19 * 1024, iterations: 2, parallelism: 1 } as const;
/**
 * The floor of Custody 0.1.0 (16 MiB). A vault header made then is still opened, and its
 * password wrapping is re-made at the current floor on the first unlock (Vault.unlock); new
 * wrappings never go below KDF_FLOOR.
 */
export const KDF_LEGACY_FLOOR = { memoryKiB: 16 * 1024, iterations: 2, parallelism: 1 } as const;
/**
 * Above this a header is refused before anything is derived: a header from a hostile sync
 * server (join) or a folder writer must not make this machine allocate gigabytes or spin for
 * hours. 1 GiB and 16 lanes are Bitwarden's maxima; total work is capped at what calibration
 * can produce at most (64 MiB x 64 passes).
 */
export const KDF_CEILING = { memoryKiB: 1024 * 1024, iterations: 64, parallelism: 16, work: 64 * 1024 * 64 } as const;

/**
 * Refuses parameters outside [floor, ceiling] before any derivation. `legacy`: accept the
 * 0.1.0 floor (an existing vault's own header at unlock); never for new wrappings.
 */
export function assertKdfStrong(p: KdfParams, opts: { legacy?: boolean } = {}): void {
  if (p.algorithm !== 'argon2id') throw new CustodyError('KDF_TOO_WEAK', `unsupported key derivation "${String(p.algorithm)}"`);
  const floor = opts.legacy ? KDF_LEGACY_FLOOR : KDF_FLOOR;
  for (const v of [p.memoryKiB, p.iterations, p.parallelism])
    if (!Number.isSafeInteger(v)) throw new CustodyError('VAULT_CORRUPT', 'the Argon2id parameters must be whole numbers');
  if (p.memoryKiB < floor.memoryKiB || p.iterations < floor.iterations || p.parallelism < floor.parallelism)
    throw new CustodyError(
      'KDF_TOO_WEAK',
      `the vault header asks for Argon2id m=${p.memoryKiB} KiB, t=${p.iterations}, p=${p.parallelism}, below the floor ` +
        `(m >= ${floor.memoryKiB} KiB, t >= ${floor.iterations}); refusing to open a possibly downgraded vault`,
    );
  if (p.memoryKiB > KDF_CEILING.memoryKiB || p.iterations > KDF_CEILING.iterations || p.parallelism > KDF_CEILING.parallelism || p.memoryKiB * p.iterations > KDF_CEILING.work)
    throw new CustodyError(
      'KDF_TOO_COSTLY',
      `the vault header asks for Argon2id m=${p.memoryKiB} KiB, t=${p.iterations}, p=${p.parallelism}, above the ceiling ` +
        `(m <= ${KDF_CEILING.memoryKiB} KiB, t <= ${KDF_CEILING.iterations}, p <= ${KDF_CEILING.parallelism}, m x t <= ${KDF_CEILING.work} KiB); refusing to derive`,
    );
  if (Buffer.from(p.salt, 'base64').length !== 16) throw new CustodyError('VAULT_CORRUPT', 'the vault header has a malformed KDF salt');
}

/** Whether a header's parameters are below the current floor (an 0.1.0 vault to upgrade at unlock). */
export const kdfBelowFloor = (p: KdfParams): boolean => p.memoryKiB < KDF_FLOOR.memoryKiB || p.iterations < KDF_FLOOR.iterations || p.parallelism < KDF_FLOOR.parallelism;

export function newKdfParams(cost: Partial<Omit<KdfParams, 'algorithm' | 'salt'>> = {}): KdfParams {
  const p: KdfParams = { algorithm: 'argon2id', ...KDF_DEFAULTS, ...cost, salt: randomBytes(16).toString('base64') };
  assertKdfStrong(p);
  return p;
}

export async function deriveKek(password: string, p: KdfParams, opts: { legacy?: boolean } = {}): Promise<Buffer> {
  assertKdfStrong(p, opts);
  return keyMaterial(await argon2.hash(password, {
    type: argon2.argon2id,
    memoryCost: p.memoryKiB,
    timeCost: p.iterations,
    parallelism: p.parallelism,
    salt: Buffer.from(p.salt, 'base64'),
    hashLength: 32,
    raw: true,
  }));
}

/**
 * Picks parameters whose derivation takes about `targetMs` here: keeps 64 MiB and 4 lanes
 * and scales passes; for targets too short even for 2 passes, lowers memory toward the floor.
 */
export async function calibrateKdf(targetMs: number): Promise<Omit<KdfParams, 'salt' | 'algorithm'>> {
  const time = async (memoryKiB: number, iterations: number) => {
    const t0 = performance.now();
    wipe(await deriveKek('calibration', { algorithm: 'argon2id', memoryKiB, iterations, parallelism: KDF_DEFAULTS.parallelism, salt: randomBytes(16).toString('base64') }));
    return performance.now() - t0;
  };
  let memoryKiB: number = KDF_DEFAULTS.memoryKiB;
  const perPass = (await time(memoryKiB, KDF_FLOOR.iterations)) / KDF_FLOOR.iterations;
  let iterations = Math.max(KDF_FLOOR.iterations, Math.round(targetMs / perPass));
  if (perPass * KDF_FLOOR.iterations > targetMs) {
    const scale = targetMs / (perPass * KDF_FLOOR.iterations);
    memoryKiB = Math.max(KDF_FLOOR.memoryKiB, Math.floor((memoryKiB * scale) / 1024) * 1024);
    iterations = KDF_FLOOR.iterations;
  }
  return { memoryKiB, iterations: Math.min(iterations, 64), parallelism: KDF_DEFAULTS.parallelism };
}
