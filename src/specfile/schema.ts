/**
 * The shape of `hook.yaml`: every key, its type, its default and the checks that need no
 * archive. The same schema produces `hook.schema.json`, which editors use to complete and
 * check the file (`# yaml-language-server: $schema=./hook.schema.json`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import picomatch from 'picomatch';
import { z } from 'zod';
import { ARCHES } from '../arch.ts';
import { DEFAULT_COMPONENTS, DEFAULT_SUITES } from '../debian/sources.ts';
import { repoPath } from '../repo.ts';
import { BASE_GROUPS, BASE_USERS } from '../rootfs/users.ts';
import { parseSize } from '../util/size.ts';
import { didYouMean } from '../util/suggest.ts';
import { imageRefProblem, imageTagProblem, sshPublicKeyProblem } from './embedded.ts';
import {
  ACCOUNT_NAME_PATTERN,
  accountPathProblem,
  archiveNameProblem,
  IMAGE_NAME_PATTERN,
  linkTargetProblem,
  quote,
  registryHostProblem,
  UNIT_PATTERN,
  unitNameProblem,
  VERSION_PATTERN,
} from './names.ts';
import { type Checked, canonicalPath, controlCharacter, normalizeGlob, normalizeOsPath } from './paths.ts';

const PACKAGE_JSON = repoPath('package.json');
export const JSON_SCHEMA_FILE = repoPath('hook.schema.json');

const toolVersion: string = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')).version;

export const DEFAULT_EXCLUDE = [
  'usr/share/doc/**',
  'usr/share/man/**',
  'usr/share/info/**',
  'usr/share/locale/**',
  'usr/share/lintian/**',
];
export const DEFAULT_CMDLINE = 'console=tty0 console=ttyS0,115200';
export const DEFAULT_SIZE_BUDGET = '448MiB';
export const DEFAULT_MODE = 0o644;

/** Why a path glob is unusable, or undefined when it is fine. */
export function globProblem(pattern: string): string | undefined {
  return checkGlob(pattern).problem;
}

/** A glob normalised like a path (`./a//b/*` → `a/b/*`) and compiled once to catch syntax errors. */
function checkGlob(raw: string): Checked {
  const normalized = normalizeGlob(raw);
  if (normalized.problem !== undefined) return normalized;
  const pattern = normalized.value;
  try {
    // debug makes picomatch throw on an invalid regular expression instead of matching nothing.
    picomatch.makeRe(pattern, { strictBrackets: true, debug: true } as picomatch.PicomatchOptions);
  } catch (error) {
    return { problem: error instanceof Error ? error.message : String(error) };
  }
  return { value: pattern };
}

/** Why a path inside the image is unusable, or undefined when it is fine. */
export function osPathProblem(path: string): string | undefined {
  return normalizeOsPath(path).problem;
}

/**
 * A string checked by `problem`; the message names the value (unless it is secret) and says
 * what is wrong.
 */
function checkedString(what: string, problem: (value: string) => string | undefined, secret = false) {
  return z.string().superRefine((value, ctx) => {
    const why = problem(value);
    const named = secret ? what : `${what} ${quote(value)}`;
    if (why !== undefined) ctx.addIssue({ code: 'custom', message: `bad ${named}: ${why}` });
  });
}

/**
 * A string rewritten by `check` (a normalised path), or refused with its reason; like
 * checkedString, the message names the value.
 */
function normalizedString(what: string, check: (value: string) => Checked) {
  return z.string().transform((value, ctx) => {
    const checked = check(value);
    if (checked.problem === undefined) return checked.value;
    ctx.addIssue({ code: 'custom', message: `bad ${what} ${quote(value)}: ${checked.problem}` });
    return z.NEVER;
  });
}

/** A string that must match `pattern`; `expected` says in words what is allowed. */
function matching(pattern: RegExp, what: string, expected: string, secret = false) {
  return checkedString(what, (value) => (pattern.test(value) ? undefined : expected), secret).meta({
    pattern: pattern.source,
  });
}

const glob = normalizedString('glob', checkGlob);
const globs = z.array(glob);
/** Kernel module patterns may start with `!` to exclude what earlier patterns selected. */
const modulePattern = normalizedString('glob', (value) => {
  const negated = value.startsWith('!');
  const checked = checkGlob(negated ? value.slice(1) : value);
  return checked.problem === undefined ? { value: negated ? `!${checked.value}` : checked.value } : checked;
});
const osPath = normalizedString('path', normalizeOsPath);
const absolutePath = checkedString('path', accountPathProblem);

const OWNER_PATTERN = /^([a-z_][a-z0-9_.-]*|\d+):([a-z_][a-z0-9_.-]*|\d+)$/;
const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;
const packageName = matching(
  PACKAGE_NAME,
  'package name',
  'Debian package names are lower case letters, digits and + - .',
);
const unitName = checkedString('unit name', unitNameProblem).meta({ pattern: UNIT_PATTERN.source });
const accountName = matching(
  ACCOUNT_NAME_PATTERN,
  'name',
  'expected a lower-case account name (letters, digits, _ and -; at most 32 characters)',
);
/** The largest uid/gid (4294967295 is (uid_t)-1, "no id"). */
const MAX_ID = 4294967294;
const id = z.int().min(0).max(MAX_ID);
const httpUrl = checkedString('URL', (value) => {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? undefined : 'expected http:// or https://';
  } catch {
    return 'not a URL';
  }
});

/** Octal digits (`"0644"`, `"4755"`, `"0o644"`) or a number that is the mode itself. */
const mode = z
  .union([z.string(), z.int()])
  .superRefine((value, ctx) => {
    if (parseMode(value) === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `bad mode ${quote(value)}: expected octal such as "0644"`,
      });
    }
  })
  .transform((value) => parseMode(value) ?? DEFAULT_MODE)
  .meta({ description: 'Permission bits, octal: "0644" (default), "0755", "4755"', default: '0644' });

/** The permission bits a spec mode stands for, or undefined when it is not a mode. */
export function parseMode(value: string | number): number | undefined {
  if (typeof value === 'number')
    return Number.isInteger(value) && value >= 0 && value <= 0o7777 ? value : undefined;
  const match = /^(?:0o?)?([0-7]{1,4})$/.exec(value.trim());
  return match ? Number.parseInt(match[1]!, 8) : undefined;
}

/** `{ items, key }` → an issue on every later item repeating an earlier item's key. */
function unique<T>(key: (item: T) => string | number | undefined, field: string, what: string) {
  return (items: T[], ctx: z.RefinementCtx) => {
    const seen = new Set<string | number>();
    items.forEach((item, index) => {
      const value = key(item);
      if (value === undefined) return;
      if (seen.has(value))
        ctx.addIssue({
          code: 'custom',
          path: [index, field],
          message: `duplicate ${what} ${typeof value === 'string' ? quote(value) : value}`,
        });
      seen.add(value);
    });
  };
}

const packageEntry = z
  .union([
    packageName,
    z.strictObject({
      name: packageName,
      include: globs.optional().describe('Only these files of the package are kept (globs relative to /).'),
      exclude: globs.optional().describe('Files of this package that are dropped (globs relative to /).'),
    }),
  ])
  .transform((entry) => (typeof entry === 'string' ? { name: entry } : entry));

const archiveSchema = z
  .strictObject({
    mirror: httpUrl
      .optional()
      .describe('Debian archive base URL; default: HOOK_MIRROR, then the host apt sources.'),
    securityMirror: httpUrl
      .optional()
      .describe('Debian security archive base URL (serves *-security suites).'),
    suites: z.array(checkedString('suite', archiveNameProblem).min(1)).default(DEFAULT_SUITES),
    components: z.array(checkedString('component', archiveNameProblem).min(1)).default(DEFAULT_COMPONENTS),
  })
  .prefault({});

const firmwareSchema = z
  .strictObject({
    packages: z
      .array(packageName)
      .default([])
      .describe('Firmware packages (non-free-firmware) to take files from.'),
    include: globs
      .prefault([])
      .describe(
        'Extra files to keep, globs relative to lib/firmware; files the selected modules need are kept anyway.',
      ),
  })
  .prefault({});

const kernelSchema = z
  .strictObject({
    package: checkedString('kernel package', (value) => {
      if (/\{(?!debarch\}|arch\})[^}]*\}/.test(value))
        return 'the only placeholders are {debarch} and {arch}';
      const name = value.replaceAll('{debarch}', 'amd64').replaceAll('{arch}', 'x86_64');
      return PACKAGE_NAME.test(name)
        ? undefined
        : 'Debian package names are lower case letters, digits and + - .';
    })
      .default('linux-image-{debarch}')
      .describe('Kernel package; {debarch} becomes amd64/arm64, {arch} x86_64/aarch64.'),
    modules: z
      .array(modulePattern)
      .prefault([])
      .describe(
        'Modules to include: globs on paths relative to lib/modules/<version>/, or module names; "!" excludes.',
      ),
    firmware: firmwareSchema,
    cmdline: checkedString('command line', (value) => {
      const control = controlCharacter(value);
      return control === undefined ? undefined : `it contains a control character (${control})`;
    })
      .default(DEFAULT_CMDLINE)
      .describe('Default kernel command line.'),
  })
  .prefault({});

const groupSchema = z.strictObject({ name: accountName, gid: id });

const userSchema = z.strictObject({
  name: accountName,
  uid: id,
  gid: id.optional().describe('Primary group id; default: a group named like the user, else the uid.'),
  home: absolutePath.optional().describe('Home directory (absolute); default /home/<name>.'),
  shell: absolutePath.optional().describe('Login shell (absolute); default /bin/sh.'),
  groups: z.array(accountName).optional().describe('Supplementary groups.'),
  // No ":" (the shadow field separator), no spaces or control characters.
  password: matching(
    /^(!|\*|!?\$[0-9a-z]+\$[!-9;-~]+)$/,
    'password',
    'expected "!" (locked) or a crypt(3) hash such as $y$... (never a clear-text password)',
    true,
  )
    .optional()
    .describe('"!" (locked, the default) or a crypt(3) hash.'),
});

const symlinkSchema = z.strictObject({
  path: osPath.describe('Where the link is, relative to the root of the OS.'),
  target: checkedString('link target', linkTargetProblem).describe(
    'What the link points to, as written into the link.',
  ),
});

const fileSchema = z
  .strictObject({
    path: osPath.describe('Where the file goes, relative to the root of the OS.'),
    content: z.string().optional().describe('The file content.'),
    source: z.string().min(1).optional().describe('A file to copy, relative to the spec file.'),
    mode: mode.optional(),
    owner: matching(OWNER_PATTERN, 'owner', 'expected "user:group" or "uid:gid"')
      .default('root:root')
      .describe('"user:group" or "uid:gid"; default root:root.'),
  })
  .superRefine((file, ctx) => {
    if ((file.content === undefined) === (file.source === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of content or source' });
    }
  })
  .transform((file) => ({ ...file, mode: file.mode ?? DEFAULT_MODE }));

const systemdSchema = z
  .strictObject({
    enable: z.array(unitName).prefault([]).describe('Units enabled as their [Install] section says.'),
    mask: z.array(unitName).prefault([]).describe('Units masked (linked to /dev/null).'),
  })
  .prefault({});

const sizeBudget = z
  .union([z.string(), z.int()])
  .superRefine((value, ctx) => {
    if (parseSize(value) === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `bad size ${quote(value)}: expected bytes or a size such as "400MiB" or "1GiB"`,
      });
    }
  })
  .transform((value) => parseSize(value) ?? 0)
  .prefault(DEFAULT_SIZE_BUDGET)
  .meta({
    description: 'Limit on the uncompressed size of the OS (it lives in RAM): "400MiB", "1GiB" or bytes.',
    default: DEFAULT_SIZE_BUDGET,
  });

/** A private registry the OS trusts: its CA for Docker and the system bundle, or plain HTTP. */
const registrySchema = z
  .strictObject({
    host: checkedString('registry host', registryHostProblem).describe(
      'The registry as image references name it: host or host:port (the folder name in /etc/docker/certs.d/).',
    ),
    ca: z
      .string()
      .min(1)
      .optional()
      .describe(
        "PEM file of the CA that signed the registry's certificate, relative to the spec file (like files[].source).",
      ),
    insecure: z
      .boolean()
      .default(false)
      .describe(
        'Let Docker use the registry over plain HTTP or without checking its certificate (daemon.json insecure-registries).',
      ),
  })
  .superRefine((registry, ctx) => {
    if (registry.ca === undefined && registry.insecure !== true)
      ctx.addIssue({ code: 'custom', message: 'give ca (a CA certificate file), insecure: true, or both' });
  });

/** A container image carried in the OS, present in Docker's image store at boot (air-gapped sites). */
const embeddedImageSchema = z.strictObject({
  ref: checkedString('image reference', imageRefProblem).describe(
    'The image to pull at build time, by tag or digest: [registry/]repository[:tag][@sha256:…]. Multi-arch references give the image of the target architecture.',
  ),
  tag: checkedString('tag', imageTagProblem)
    .optional()
    .describe(
      "Another name the image has in the OS, as Hook's images.txt gives one (e.g. the tink_worker_image Smee sends).",
    ),
});

const sshSchema = z
  .strictObject({
    authorizedKeys: z
      .array(checkedString('SSH public key', sshPublicKeyProblem))
      .prefault([])
      .describe(
        "Public keys (one line of a .pub file each) root's authorized_keys holds in a `hook build --debug` OS, besides the builder's ~/.ssh/*.pub.",
      ),
  })
  .prefault({});

/** Container image settings, used by `hook image build` only (the OS build ignores them). */
const imageSchema = z
  .strictObject({
    entrypoint: z
      .array(z.string())
      .optional()
      .describe('The image entrypoint, e.g. ["/bin/sh", "/worker.sh"].'),
    cmd: z.array(z.string()).optional().describe('The default arguments (Cmd).'),
    env: z.record(z.string(), z.string()).optional().describe('Environment variables baked into the image.'),
    workingDir: absolutePath.optional().describe('Working directory (absolute).'),
  })
  .optional()
  .describe('Container image settings for `hook image build`; ignored by `hook build`.');

/** What the checks across sections read of a spec (its output type would be circular here). */
interface CrossCheckInput {
  users: ReadonlyArray<{ name: string; uid: number; groups?: string[] | undefined }>;
  groups: ReadonlyArray<{ name: string; gid: number }>;
  files: ReadonlyArray<{ path: string; owner: string }>;
  symlinks: ReadonlyArray<{ path: string }>;
}

/**
 * Checks that relate entries of different sections, once each entry is valid on its own:
 * no two `files:`/`symlinks:` entries name one path (after normalisation and the merged-/usr
 * links) or one inside the other; owners and supplementary groups name known accounts; the
 * spec's accounts agree with the base system's ids.
 */
function crossChecks(spec: CrossCheckInput, ctx: z.RefinementCtx): void {
  // zod runs this refinement even when entries had their own (non-fatal) issues, in which case
  // their values may not be strings yet: only well-formed entries are compared.
  const valid = <T>(items: readonly T[] | undefined, ok: (item: T) => boolean) =>
    (items ?? []).map((item, i) => ({ item, i })).filter(({ item }) => ok(item));
  const isText = (value: unknown): value is string => typeof value === 'string';
  const issue = (path: (string | number)[], message: string, hint?: string) =>
    ctx.addIssue({ code: 'custom', path, message, ...(hint === undefined ? {} : { params: { hint } }) });

  const entries = [
    ...valid(spec.files, (f) => isText(f?.path)).map(({ item, i }) => ({
      list: 'files',
      i,
      path: item.path,
      kind: 'a file',
    })),
    ...valid(spec.symlinks, (l) => isText(l?.path)).map(({ item, i }) => ({
      list: 'symlinks',
      i,
      path: item.path,
      kind: 'a symlink',
    })),
  ];
  const byPath = new Map<string, (typeof entries)[number]>();
  for (const entry of entries) {
    const canonical = canonicalPath(entry.path);
    const first = byPath.get(canonical);
    if (first === undefined) byPath.set(canonical, entry);
    else
      issue(
        [entry.list, entry.i, 'path'],
        `"${entry.path}" names the same path as ${first.list}[${first.i}] "${first.path}"`,
        'Each path may appear once in files: and symlinks: together ("./a//b" is "a/b", "bin/x" is "usr/bin/x")',
      );
  }
  for (const entry of entries) {
    const parts = canonicalPath(entry.path).split('/');
    for (let n = parts.length - 1; n >= 1; n--) {
      const outer = byPath.get(parts.slice(0, n).join('/'));
      if (outer === undefined) continue;
      issue(
        [entry.list, entry.i, 'path'],
        `"${entry.path}" lies inside ${outer.list}[${outer.i}] "${outer.path}", which is ${outer.kind}`,
        outer.kind === 'a symlink'
          ? 'Write the path the link points to instead'
          : 'A file cannot hold other files: rename one of the two',
      );
      break;
    }
  }

  const users = new Map<string, number>(BASE_USERS.map((u) => [u.name, u.uid]));
  const groups = new Map<string, number>(BASE_GROUPS.map((g) => [g.name, g.gid]));
  const baseUsers = new Map(users);
  const baseGroups = new Map(groups);
  const baseUserById = new Map(BASE_USERS.map((u) => [u.uid, u.name]));
  const baseGroupById = new Map(BASE_GROUPS.map((g) => [g.gid, g.name]));
  const groupList = valid(spec.groups, (g) => isText(g?.name) && Number.isInteger(g?.gid));
  const userList = valid(spec.users, (u) => isText(u?.name) && Number.isInteger(u?.uid));
  groupList.forEach(({ item: group, i }) => {
    const baseGid = baseGroups.get(group.name);
    if (baseGid !== undefined && baseGid !== group.gid)
      issue(['groups', i, 'gid'], `group ${group.name} is a base system group with gid ${baseGid}`);
    const owner = baseGroupById.get(group.gid);
    if (owner !== undefined && owner !== group.name)
      issue(['groups', i, 'gid'], `gid ${group.gid} belongs to the base system group ${owner}`);
    groups.set(group.name, group.gid);
  });
  userList.forEach(({ item: user, i }) => {
    const baseUid = baseUsers.get(user.name);
    if (baseUid !== undefined && baseUid !== user.uid)
      issue(['users', i, 'uid'], `user ${user.name} is a base system user with uid ${baseUid}`);
    const owner = baseUserById.get(user.uid);
    if (owner !== undefined && owner !== user.name)
      issue(['users', i, 'uid'], `uid ${user.uid} belongs to the base system user ${owner}`);
    users.set(user.name, user.uid);
  });
  const knownGroupsHint = "Groups are root, the base-passwd set (adm, tty, disk, …) and the spec's groups:";
  userList.forEach(({ item: user, i }) => {
    (Array.isArray(user.groups) ? user.groups : []).forEach((name, j) => {
      if (!isText(name) || !ACCOUNT_NAME_PATTERN.test(name) || groups.has(name)) return;
      const near = didYouMean(name, groups.keys());
      issue(
        ['users', i, 'groups', j],
        `unknown group "${name}"${near === undefined ? '' : ` (did you mean ${near}?)`}`,
        `${knownGroupsHint} declare it under groups:`,
      );
    });
  });
  valid(spec.files, (f) => isText(f?.owner) && OWNER_PATTERN.test(f.owner)).forEach(({ item: file, i }) => {
    const [user = '', group = ''] = file.owner.split(':');
    const unknown: string[] = [];
    if (!/^\d+$/.test(user) && !users.has(user)) {
      const near = didYouMean(user, users.keys());
      unknown.push(`unknown user "${user}"${near === undefined ? '' : ` (did you mean ${near}?)`}`);
    }
    if (!/^\d+$/.test(group) && !groups.has(group)) {
      const near = didYouMean(group, groups.keys());
      unknown.push(`unknown group "${group}"${near === undefined ? '' : ` (did you mean ${near}?)`}`);
    }
    for (const id of [user, group]) {
      if (/^\d+$/.test(id) && Number(id) > MAX_ID) unknown.push(`id ${id} is larger than ${MAX_ID}`);
    }
    if (unknown.length > 0)
      issue(
        ['files', i, 'owner'],
        `bad owner "${file.owner}": ${unknown.join(', ')}`,
        'Owners name root, a base-passwd account (daemon, bin, sys, …), one declared under users:/groups:, or numeric ids',
      );
  });
}

export const specSchema = z
  .strictObject({
    extends: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Start from another spec and merge this file into it: "default" (the built-in spec) or a path relative to this file.',
      ),
    name: matching(
      IMAGE_NAME_PATTERN,
      'name',
      'expected lower-case letters, digits and . _ - (at most 64 characters)',
    )
      .default('hookos')
      .describe('Image name (os-release VARIANT_ID).'),
    version: matching(
      VERSION_PATTERN,
      'version',
      'expected letters, digits and . _ ~ + - (at most 64 characters, starting with a letter or digit)',
    )
      .default(toolVersion)
      .describe('Image version (os-release VERSION_ID).'),
    arch: z.enum(ARCHES).default('x86_64').describe('Target architecture; the --arch option overrides it.'),
    archive: archiveSchema,
    kernel: kernelSchema,
    packages: z
      .array(packageEntry)
      .min(1)
      .superRefine(unique((p) => p.name, 'name', 'package'))
      .describe('Debian packages to install, with their dependencies.'),
    omit: z
      .array(packageName)
      .default([])
      .describe(
        'Packages never installed: a dependency on one of them counts as met (e.g. python3, which only an optional xfsprogs script needs).',
      ),
    exclude: globs
      .prefault(DEFAULT_EXCLUDE)
      .describe('Files dropped from every package (globs relative to /).'),
    groups: z
      .array(groupSchema)
      .superRefine(unique((g) => g.name, 'name', 'group'))
      .superRefine(unique((g) => g.gid, 'gid', 'gid'))
      .default([])
      .describe('Groups besides root; packages that need a group at boot (docker) need it here.'),
    users: z
      .array(userSchema)
      .superRefine(unique((u) => u.name, 'name', 'user'))
      .superRefine(unique((u) => u.uid, 'uid', 'uid'))
      .default([])
      .describe('Users besides root.'),
    symlinks: z
      .array(symlinkSchema)
      .prefault([])
      .describe('Links that maintainer scripts would have made (alternatives).'),
    files: z.array(fileSchema).prefault([]).describe('Files added to the OS.'),
    systemd: systemdSchema,
    sizeBudget,
    compression: z.enum(['zstd', 'gzip']).default('zstd').describe('Initramfs compression.'),
    registries: z
      .array(registrySchema)
      .superRefine(unique((r) => r.host, 'host', 'registry'))
      .default([])
      .describe(
        'Private registries: CA certificates Docker and the OS trust, or hosts Docker may use insecurely.',
      ),
    images: z
      .array(embeddedImageSchema)
      .superRefine(unique((i) => i.ref, 'ref', 'image'))
      .default([])
      .describe(
        "Container images carried inside the OS, in Docker's image store from boot on, so the worker starts with no registry reachable.",
      ),
    ssh: sshSchema,
    image: imageSchema,
    output: z
      .strictObject({ dir: z.string().min(1).default('out').describe('Where artifacts are written.') })
      .prefault({}),
  })
  .superRefine(crossChecks)
  .describe('HookOS specification (hook.yaml)');

/** A validated spec with every default filled in. `files[].source` is an absolute path once loaded. */
export type Spec = z.output<typeof specSchema>;
/** What may be written in hook.yaml. */
export type SpecInput = z.input<typeof specSchema>;
export type PackageSpec = Spec['packages'][number];
export type FileSpec = Spec['files'][number];
export type UserSpec = Spec['users'][number];
export type GroupSpec = Spec['groups'][number];
export type SymlinkSpec = Spec['symlinks'][number];
export type Compression = Spec['compression'];
export type RegistrySpec = Spec['registries'][number];
export type EmbeddedImageSpec = Spec['images'][number];

/** The JSON Schema (draft 2020-12) of what may be written in hook.yaml. */
export function jsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(specSchema, { io: 'input', unrepresentable: 'any' });
  return { ...schema, title: 'hook.yaml' };
}

export function jsonSchemaText(): string {
  return `${JSON.stringify(jsonSchema(), null, 2)}\n`;
}

/** Regenerates hook.schema.json at the repository root (or `target`). */
export function writeJsonSchema(target: string | URL = JSON_SCHEMA_FILE): string {
  const path = target instanceof URL ? fileURLToPath(target) : target;
  writeFileSync(path, jsonSchemaText());
  return path;
}
