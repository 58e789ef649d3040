/**
 * `hook build --print-spec`: the spec as the build reads it — every file of the `extends:`
 * chain merged, every default filled in — written back as a spec (YAML) or as JSON. The YAML
 * is itself a valid spec that builds the same OS (sources are absolute paths, so it needs
 * `--allow-outside-sources` when built from elsewhere).
 */
import { Document } from 'yaml';
import type { Arch } from '../arch.ts';
import type { LoadedSpec } from './load.ts';

const MIB = 1024 * 1024;

/** The merged spec as plain data, written the way a spec writes it (modes in octal, sizes in MiB). */
export function effectiveSpec(loaded: Pick<LoadedSpec, 'spec'>, arch?: Arch): Record<string, unknown> {
  const { extends: _, ...spec } = loaded.spec;
  const out: Record<string, unknown> = {
    ...spec,
    arch: arch ?? spec.arch,
    files: spec.files.map((file) => ({ ...file, mode: `0${file.mode.toString(8).padStart(3, '0')}` })),
    sizeBudget: spec.sizeBudget % MIB === 0 ? `${spec.sizeBudget / MIB}MiB` : spec.sizeBudget,
  };
  return JSON.parse(JSON.stringify(out)) as Record<string, unknown>;
}

export function specJson(loaded: Pick<LoadedSpec, 'spec'>, arch?: Arch): string {
  return `${JSON.stringify(effectiveSpec(loaded, arch), null, 2)}\n`;
}

export function specYaml(loaded: Pick<LoadedSpec, 'spec' | 'layers'>, arch?: Arch): string {
  const doc = new Document(effectiveSpec(loaded, arch));
  const chain = loaded.layers.map((layer) => layer.path).join(' ← ');
  doc.commentBefore = [
    ` The spec hook build reads: ${chain}`,
    loaded.layers.length > 1
      ? ' merged (extends:), with every default filled in.'
      : ' with every default filled in.',
  ].join('\n');
  return doc.toString({ lineWidth: 0 });
}
