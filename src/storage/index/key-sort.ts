// Stable LSD radix sort of entry numbers by 64-bit key (two uint32 halves), 16 bits a pass. Used to
// load an .idx whose keys are far out of order: one sort, then every entry is applied in key order
// (and, for equal keys, in log order) without shifting the map's arrays. Passes whose digit is the
// same for every key are skipped, so keys under 2^32 cost two passes.

export function sortByKey(keyHi: Uint32Array, keyLo: Uint32Array, count: number): Uint32Array {
  let order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  let spare = new Uint32Array(count);
  const counts = new Uint32Array(65536);
  const digits: [Uint32Array, number][] = [
    [keyLo, 0],
    [keyLo, 16],
    [keyHi, 0],
    [keyHi, 16],
  ];
  for (const [column, shift] of digits) {
    counts.fill(0);
    for (let i = 0; i < count; i++) counts[(column[i]! >>> shift) & 0xffff]!++;
    if (count === 0 || counts[(column[0]! >>> shift) & 0xffff] === count) continue;
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = counts[d]!;
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < count; i++) {
      const entry = order[i]!;
      const d = (column[entry]! >>> shift) & 0xffff;
      spare[counts[d]!++] = entry;
    }
    [order, spare] = [spare, order];
  }
  return order;
}
