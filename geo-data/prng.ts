/**
 * Seeded randomness for the sample generator. Math.random is never used: the committed sample files must
 * regenerate byte for byte from the seed.
 */

/** mulberry32 (Tommy Ettinger, public domain): a 32-bit state PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An independent stream per purpose, so that changing one part of the generator does not shift the others. */
export function substream(seed: number, purpose: number): () => number {
  return mulberry32(hash3(seed, purpose, 0x9e3779b9));
}

/** Integer hash of three ints to a uint32 (a murmur3-style finaliser); order-independent of any PRNG state. */
export function hash3(a: number, b: number, c: number): number {
  let h = Math.imul(a | 0, 0x85ebca6b) ^ Math.imul(b | 0, 0xc2b2ae35) ^ Math.imul(c | 0, 0x27d4eb2f);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of lattice point (i, j) in stream `s` as a float in [0, 1). */
export function hashUnit(s: number, i: number, j: number): number {
  return hash3(s, i, j) / 4294967296;
}

/**
 * Smooth value noise in [0, 1) at (x, y) (lattice units), bilinear with a smoothstep fade. Pure arithmetic
 * (no Math.sin), so results are identical on every IEEE-754 machine.
 */
export function valueNoise(s: number, x: number, y: number): number {
  const i = Math.floor(x);
  const j = Math.floor(y);
  const fx = x - i;
  const fy = y - j;
  const u = fx * fx * (3 - 2 * fx);
  const v = fy * fy * (3 - 2 * fy);
  const a = hashUnit(s, i, j);
  const b = hashUnit(s, i + 1, j);
  const c = hashUnit(s, i, j + 1);
  const d = hashUnit(s, i + 1, j + 1);
  return a + (b - a) * u + (c - a) * v + (a - b - c + d) * u * v;
}

/** Two octaves of value noise, in [0, 1). */
export function fractalNoise(s: number, x: number, y: number): number {
  return (valueNoise(s, x, y) * 2 + valueNoise(s + 1, x * 2.03, y * 2.03)) / 3;
}

/** Fisher–Yates shuffle in place with the given stream. */
export function shuffle<T>(items: T[], rand: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const k = Math.floor(rand() * (i + 1));
    const t = items[i];
    items[i] = items[k];
    items[k] = t;
  }
  return items;
}
