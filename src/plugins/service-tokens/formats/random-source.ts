import { randomBytes } from 'node:crypto';

/**
 * Where salts and token secrets come from: `size` bytes, each uniform over 0..255 and independent.
 * Production uses the operating system's CSPRNG; tests pass deterministic sources.
 */
export type RandomSource = (size: number) => Uint8Array;

export const systemRandom: RandomSource = (size) => randomBytes(size);
