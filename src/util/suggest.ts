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

/**
 * The one "did you mean" ranker (spec keys, users, groups, units, package and module names):
 * up to `max` candidates close to `word`, case ignored. Close means within a small edit
 * distance (a third of the word's length, 2 to 3 edits), or containing the word, or sharing a
 * long prefix with it (`linux-image` → `linux-image-amd64`). Closest first, then the length
 * nearest the word's, then by name.
 */
export function suggest(word: string, candidates: Iterable<string>, max = 5): string[] {
  const wanted = word.toLowerCase();
  const limit = Math.max(2, Math.min(3, Math.floor(wanted.length / 3)));
  const scored: Array<{ name: string; distance: number }> = [];
  for (const candidate of candidates) {
    const lower = candidate.toLowerCase();
    if (lower === wanted && candidate === word) continue;
    const related =
      (wanted.length >= 3 && lower.includes(wanted)) ||
      commonPrefix(wanted, lower) >= Math.max(4, wanted.length - 2);
    const distance = related ? 0 : editDistance(wanted, lower, limit);
    if (distance <= limit) scored.push({ name: candidate, distance });
  }
  scored.sort(
    (a, b) =>
      a.distance - b.distance ||
      Math.abs(a.name.length - word.length) - Math.abs(b.name.length - word.length) ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  return [...new Set(scored.map((s) => s.name))].slice(0, max);
}

/** The one candidate a misspelt word most likely meant, if any is close enough. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  return suggest(word, candidates, 1)[0];
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}
