/** "Did you mean" for misspelt names: spec keys, users, groups, units, kernel modules. */
import { editDistance } from '../util/edit-distance.ts';

/** The closest candidate to a misspelt word, if one is close enough to be what was meant. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  return nearMatches(word, candidates, 1)[0];
}

/**
 * Up to `count` candidates within a small edit distance of `word` (a third of its length, 1 to
 * 3 edits; case ignored), closest first, then shortest, then by name.
 */
export function nearMatches(word: string, candidates: Iterable<string>, count = 3): string[] {
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  const lower = word.toLowerCase();
  const scored: Array<{ name: string; distance: number }> = [];
  for (const candidate of candidates) {
    if (Math.abs(candidate.length - word.length) > limit) continue;
    const distance = editDistance(lower, candidate.toLowerCase(), limit);
    if (distance <= limit) scored.push({ name: candidate, distance });
  }
  scored.sort(
    (a, b) =>
      a.distance - b.distance ||
      a.name.length - b.name.length ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  return [...new Set(scored.map((s) => s.name))].slice(0, count);
}
