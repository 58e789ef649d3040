/**
 * Edit distance for "did you mean" hints (spec keys, package names, kernel modules):
 * Levenshtein with an adjacent transposition counting as one edit (optimal string alignment),
 * giving up early once the distance must exceed `limit` (then it returns `limit + 1`).
 */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous2: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let previousMin = 0;
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, (previous2[j - 2] as number) + 1);
      }
      current.push(value);
      if (value < rowMin) rowMin = value;
    }
    // Every later cell builds on this row or (by a transposition) the one before it.
    if (rowMin > limit && previousMin > limit) return limit + 1;
    previousMin = rowMin;
    previous2 = previous;
    previous = current;
  }
  const distance = previous[b.length] as number;
  return distance > limit ? limit + 1 : distance;
}
