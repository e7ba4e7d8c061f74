// Master password -> key-encryption key with Argon2id (docs/architecture.md, "Keys and formats").
import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { CustodyError } from '../../shared/errors.ts';

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
/** Below this a header is refused: it is a downgrade, not a vault we made. */
export const KDF_FLOOR = { memoryKiB: 16 * 1024, iterations: 2, parallelism: 1 } as const;

export function assertKdfStrong(p: KdfParams): void {
  if (p.algorithm !== 'argon2id') throw new CustodyError('KDF_TOO_WEAK', `unsupported key derivation "${String(p.algorithm)}"`);
  if (p.memoryKiB < KDF_FLOOR.memoryKiB || p.iterations < KDF_FLOOR.iterations || p.parallelism < KDF_FLOOR.parallelism)
    throw new CustodyError(
      'KDF_TOO_WEAK',
      `the vault header asks for Argon2id m=${p.memoryKiB} KiB, t=${p.iterations}, p=${p.parallelism}, below the floor ` +
        `(m >= ${KDF_FLOOR.memoryKiB} KiB, t >= ${KDF_FLOOR.iterations}); refusing to open a possibly downgraded vault`,
    );
  if (Buffer.from(p.salt, 'base64').length !== 16) throw new CustodyError('VAULT_CORRUPT', 'the vault header has a malformed KDF salt');
}

export function newKdfParams(cost: Partial<Omit<KdfParams, 'algorithm' | 'salt'>> = {}): KdfParams {
  const p: KdfParams = { algorithm: 'argon2id', ...KDF_DEFAULTS, ...cost, salt: randomBytes(16).toString('base64') };
  assertKdfStrong(p);
  return p;
}

export async function deriveKek(password: string, p: KdfParams): Promise<Buffer> {
  assertKdfStrong(p);
  return argon2.hash(password, {
    type: argon2.argon2id,
    memoryCost: p.memoryKiB,
    timeCost: p.iterations,
    parallelism: p.parallelism,
    salt: Buffer.from(p.salt, 'base64'),
    hashLength: 32,
    raw: true,
  });
}

/**
 * Picks parameters whose derivation takes about `targetMs` here: keeps 64 MiB and 4 lanes
 * and scales passes; for targets too short even for 2 passes, lowers memory toward the floor.
 */
export async function calibrateKdf(targetMs: number): Promise<Omit<KdfParams, 'salt' | 'algorithm'>> {
  const time = async (memoryKiB: number, iterations: number) => {
    const t0 = performance.now();
    await deriveKek('calibration', { algorithm: 'argon2id', memoryKiB, iterations, parallelism: KDF_DEFAULTS.parallelism, salt: randomBytes(16).toString('base64') });
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
