/** Compared against in slices: a chunk is at most this long (device-mirrors.ts mirrorChunkBytes). */
const zeroes = Buffer.alloc(1 << 20);

/** Whether bytes a mirror's copy read are all zero: a hole it need not write (area-mirror.ts). */
export function isZero(data: Buffer): boolean {
  for (let at = 0; at < data.length; at += zeroes.length) {
    const end = Math.min(data.length, at + zeroes.length);
    if (zeroes.compare(data, at, end, 0, end - at) !== 0) return false;
  }
  return true;
}
