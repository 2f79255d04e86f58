/** Byte counts for people: the one home of the units the engine prints (gc, push, pull). */

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB'];

/** `1.5 MiB`; under 1 KiB: `512 B`. */
export function shortBytes(n: number): string {
  let v = n;
  let u = -1;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u < 0 ? `${n} B` : `${v.toFixed(1)} ${UNITS[u]}`;
}

/** `1.5 MiB (1572864 bytes)`; under 1 KiB: `512 bytes`. */
export function formatBytes(n: number): string {
  return n < 1024 ? `${n} bytes` : `${shortBytes(n)} (${n} bytes)`;
}
