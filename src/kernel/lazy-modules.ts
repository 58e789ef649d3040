/**
 * Module selection that reads only the modules it needs. A module's name comes from its
 * file name, so the spec's patterns are matched without opening any file; the metadata is
 * then read for the matches and, transitively, for the modules their `depends=` and softdep
 * `pre:` name. Only a soft dependency naming an alias needs every module's aliases. The
 * final answer is `selectModules` over every module, read ones with their metadata and the
 * rest as bare names: that equals `selectModules` over every module fully read, since the
 * whole closure and every holder of each alias looked up are read.
 */
import { type ModuleInfo, moduleInfoFor } from './modinfo.ts';
import { selectModules, softdepPre } from './select.ts';

export interface ModuleSource {
  /** Full metadata of these modules (paths as given to selectModulesLazily). */
  load(paths: readonly string[]): Promise<ModuleInfo[]>;
  /** Every module's aliases: alias → module paths, in package order. */
  aliases(): Promise<Map<string, string[]>>;
}

/** `paths`: every module file of the kernel package, in package order. */
export async function selectModulesLazily(
  paths: readonly string[],
  patterns: string[],
  source: ModuleSource,
): Promise<ModuleInfo[]> {
  const stubs = paths.map(stubInfo);
  // Matching needs only names and paths; unknown names fail here exactly as they would on all.
  const chosen = selectModules(stubs, patterns);
  const pathByName = new Map(stubs.map((s) => [s.name, s.path]));
  const loaded = new Map<string, ModuleInfo>();
  let aliases: Map<string, string[]> | undefined;
  let wanted = chosen.map((s) => s.path);
  while (wanted.length > 0) {
    const infos = await source.load(wanted);
    for (const info of infos) loaded.set(info.path, info);
    const next = new Set<string>();
    const want = (path: string | undefined) => {
      if (path !== undefined && !loaded.has(path)) next.add(path);
    };
    for (const info of infos) {
      for (const name of info.depends) want(pathByName.get(normalizeName(name)));
      for (const name of softdepPre(info)) {
        const direct = pathByName.get(normalizeName(name));
        if (direct !== undefined) {
          want(direct);
          continue;
        }
        aliases ??= await source.aliases();
        for (const path of aliases.get(name) ?? []) want(path);
      }
    }
    wanted = [...next];
  }
  return selectModules(
    stubs.map((stub) => loaded.get(stub.path) ?? stub),
    patterns,
  );
}

function normalizeName(name: string): string {
  return name.replaceAll('-', '_');
}

/** A module known only by its path: no dependencies or aliases, so it pulls nothing in. */
function stubInfo(path: string): ModuleInfo {
  return moduleInfoFor(path);
}
