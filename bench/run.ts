/**
 * `npm run bench`: runs every benchmark group in order and prints one table
 * (`--json`: the rows as JSON). `--only archive,build` runs some groups only.
 * Adding a group is one line in GROUPS: a module exporting `title` and `bench()`.
 */
import { goalMet, log, type Row } from './measure.ts';

export interface BenchGroup {
  /** Short name used by `--only`. */
  title: string;
  bench(): Promise<Row[]>;
}

const GROUPS: Array<() => Promise<BenchGroup>> = [
  () => import('./archive.bench.ts'),
  () => import('./build.bench.ts'),
  () => import('./boot.bench.ts'),
];

function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return '—';
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : value >= 1 ? 2 : 3;
  return `${value.toFixed(digits)} ${unit}`;
}

function formatRow(row: Row): string[] {
  const reference = row.reference
    ? `${formatValue(row.reference.value, row.unit)} (${row.reference.label})`
    : '—';
  const ratio = row.reference ? `${(row.median / row.reference.value).toFixed(2)}×` : '—';
  const met = goalMet(row);
  const target = row.goal
    ? `${row.goal.op} ${formatValue(row.goal.value, row.unit)}`
    : row.reference && !row.referenceIsContext
      ? '< reference'
      : '—';
  const mark = met === undefined ? '' : met ? ' ✓' : ' ✗';
  const name = row.note ? `${row.measurement} (${row.note})` : row.measurement;
  return [name, formatValue(row.median, row.unit), String(row.runs), reference, ratio, `${target}${mark}`];
}

export function table(rows: Row[]): string {
  const header = ['measurement', 'median', 'runs', 'reference', 'ratio', 'goal'];
  const lines = [header, header.map(() => '---'), ...rows.map(formatRow)];
  return `${lines.map((cells) => `| ${cells.join(' | ')} |`).join('\n')}\n`;
}

async function main(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? new Set((argv[onlyAt + 1] ?? '').split(',')) : undefined;
  const rows: Row[] = [];
  for (const load of GROUPS) {
    const group = await load();
    if (only && !only.has(group.title)) continue;
    log(`${group.title}…`);
    rows.push(...(await group.bench()));
  }
  if (json) {
    process.stdout.write(
      `${JSON.stringify(
        rows.map((row) => ({ ...row, goalMet: goalMet(row) ?? null })),
        null,
        2,
      )}\n`,
    );
  } else {
    process.stdout.write(table(rows));
  }
}

await main(process.argv.slice(2));
