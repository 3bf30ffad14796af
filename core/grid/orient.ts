/**
 * The sign of the orientation determinant, exactly.
 *
 * orient(a, b, c) > 0 when c lies left of the directed line a→b (a, b, c counter-clockwise),
 * < 0 when right, 0 when the three points are collinear — decided exactly for any finite doubles.
 *
 * The fast path is Shewchuk's floating-point filter ("Adaptive Precision Floating-Point Arithmetic
 * and Fast Robust Geometric Predicates", 1997, orient2d stage A with ccwerrboundA); when the
 * rounded determinant is too close to zero to trust, the determinant is recomputed exactly with
 * BigInt (every double is m·2^e with integer m), which happens only for points within a few ulps of
 * a line — on a grid edge, in practice. Exactness is what lets the join promise that a point on a
 * shared edge lands in exactly one grid.
 */

const EPSILON = 1.1102230246251565e-16; // 2^-53
const CCW_ERRBOUND_A = (3 + 16 * EPSILON) * EPSILON;

export function orient(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  const detleft = (ax - cx) * (by - cy);
  const detright = (ay - cy) * (bx - cx);
  const det = detleft - detright;
  let detsum: number;
  if (detleft > 0) {
    if (detright <= 0) return det;
    detsum = detleft + detright;
  } else if (detleft < 0) {
    if (detright >= 0) return det;
    detsum = -detleft - detright;
  } else {
    return det;
  }
  const errbound = CCW_ERRBOUND_A * detsum;
  if (det >= errbound || -det >= errbound) return det;
  return orientExact(ax, ay, bx, by, cx, cy);
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** x = m · 2^e exactly (m a BigInt). */
function decompose(x: number): [bigint, number] {
  if (x === 0) return [0n, 0];
  f64[0] = x;
  const hi = u32[LITTLE ? 1 : 0];
  const lo = u32[LITTLE ? 0 : 1];
  const sign = hi >>> 31 ? -1n : 1n;
  const exp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (exp === 0)
    e = -1074; // subnormal
  else {
    mant |= 1n << 52n;
    e = exp - 1075;
  }
  return [sign * mant, e];
}

/** The exact sign (−1, 0, 1) of orient(a, b, c). */
export function orientExact(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  const parts = [ax, ay, bx, by, cx, cy].map(decompose);
  let emin = Infinity;
  for (const [m, e] of parts) if (m !== 0n && e < emin) emin = e;
  if (emin === Infinity) return 0;
  const v = parts.map(([m, e]) => (m === 0n ? 0n : m << BigInt(e - emin)));
  const det = (v[0] - v[4]) * (v[3] - v[5]) - (v[1] - v[5]) * (v[2] - v[4]);
  return det > 0n ? 1 : det < 0n ? -1 : 0;
}
