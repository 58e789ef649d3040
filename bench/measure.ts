/** Timing helpers and the row every benchmark group returns. */

export interface Row {
  measurement: string;
  /** Median of the runs, in `unit`. */
  median: number;
  unit: string;
  runs: number;
  /** What the figure is compared with, measured in the same run (same unit). */
  reference?: { label: string; value: number } | undefined;
  /** The reference is context only, not a target (e.g. kernel-to-userspace time of the same boot). */
  referenceIsContext?: boolean;
  /** Target, e.g. `{ op: '<', value: 2 }` for "under 2 s". */
  goal?: { op: '<' | '<=' | '>'; value: number } | undefined;
  /** The individual figures, for `--json`. */
  samples?: number[];
  note?: string | undefined;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Seconds one call of `fn` takes. */
export async function seconds(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

/** Runs `fn` `runs` times (`before` untimed ahead of each) and returns the seconds of each run. */
export async function timeRuns(
  runs: number,
  fn: (run: number) => Promise<unknown>,
  before?: (run: number) => Promise<unknown>,
): Promise<number[]> {
  const samples: number[] = [];
  for (let run = 0; run < runs; run++) {
    await before?.(run);
    samples.push(await seconds(() => fn(run)));
  }
  return samples;
}

/** A row of durations in seconds. */
export function timeRow(
  measurement: string,
  samples: number[],
  extra: Pick<Row, 'reference' | 'goal' | 'note'> = {},
): Row {
  return { measurement, median: median(samples), unit: 's', runs: samples.length, samples, ...extra };
}

/** Whether `row` meets its goal (undefined when it has none). */
export function goalMet(row: Row): boolean | undefined {
  const goal =
    row.goal ??
    (row.reference && !row.referenceIsContext ? { op: '<' as const, value: row.reference.value } : undefined);
  if (!goal || !Number.isFinite(row.median)) return undefined;
  if (goal.op === '<') return row.median < goal.value;
  if (goal.op === '<=') return row.median <= goal.value;
  return row.median > goal.value;
}

/** Progress lines on stderr, so stdout holds only the table or JSON. */
export function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}
