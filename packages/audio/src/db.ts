// Power to decibels, exactly librosa.power_to_db (0.11.0).

/** `ref`: 'max' (librosa's ref=np.max: the maximum of S) or a fixed reference power. */
export type DbRef = 'max' | number;

export interface DbConfig {
  ref: DbRef;
  amin: number; // > 0, floor on S and on ref before log10
  topDb: number | null; // > 0 or null (no clipping)
}

/** Reference power for `ref` over `s` (max of S for 'max', |ref| otherwise, as librosa). */
export function dbReference(s: ArrayLike<number>, ref: DbRef): number {
  if (ref !== 'max') return Math.abs(ref);
  let m = -Infinity;
  for (let i = 0; i < s.length; i++) if (s[i]! > m) m = s[i]!;
  return m;
}

/**
 * 10*log10(max(amin, S)) - 10*log10(max(amin, ref)), then max(db, db.max() - top_db).
 * Computed in float64, written into `out` (may be a Float32Array; may alias nothing of `s`).
 */
export function powerToDb<T extends Float32Array | Float64Array>(s: ArrayLike<number>, cfg: DbConfig, out: T): T {
  const { amin, topDb } = cfg;
  if (!(amin > 0)) throw new RangeError(`amin must be > 0, got ${amin}`);
  if (topDb !== null && !(topDb >= 0)) throw new RangeError(`top_db must be >= 0, got ${topDb}`);
  const refDb = 10 * Math.log10(Math.max(amin, dbReference(s, cfg.ref)));
  let maxDb = -Infinity;
  for (let i = 0; i < s.length; i++) {
    const v = 10 * Math.log10(Math.max(amin, s[i]!)) - refDb;
    out[i] = v;
    if (v > maxDb) maxDb = v;
  }
  if (topDb !== null) {
    // The floor is computed from the float64 values (out may hold float32 roundings).
    const floor = maxDb - topDb;
    for (let i = 0; i < s.length; i++) if (out[i]! < floor) out[i] = floor;
  }
  return out;
}
