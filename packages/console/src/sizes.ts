/** Byte sizes as people write them: 512MiB, 1GiB, 4M, 4096. */

const unitBytes: Readonly<Record<string, number>> = {
  "": 1,
  B: 1,
  K: 1024,
  KB: 1000,
  KIB: 1024,
  M: 1024 ** 2,
  MB: 1000 ** 2,
  MIB: 1024 ** 2,
  G: 1024 ** 3,
  GB: 1000 ** 3,
  GIB: 1024 ** 3,
  T: 1024 ** 4,
  TB: 1000 ** 4,
  TIB: 1024 ** 4,
};

const sizePattern = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/;

/** Parses a size; undefined when the text is not one. Bare K/M/G/T are binary, as in qemu-img and LVM. */
export function parseSize(text: string): number | undefined {
  const match = sizePattern.exec(text.trim());
  if (match === null) return undefined;
  const [, number = "", unit = ""] = match;
  const multiplier = unitBytes[unit.toUpperCase()];
  if (multiplier === undefined) return undefined;
  const bytes = Number(number) * multiplier;
  if (!Number.isSafeInteger(bytes) || bytes < 0) return undefined;
  return bytes;
}

/** Formats bytes with the largest binary unit that keeps it readable: 1.5 GiB. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"] as const;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const text = Number.isInteger(value) ? String(value) : value.toFixed(1);
  return `${text} ${units[unit] ?? "B"}`;
}
