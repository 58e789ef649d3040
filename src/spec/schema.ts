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
import { parseSize } from './size.ts';

const PACKAGE_JSON = new URL('../../package.json', import.meta.url);
export const JSON_SCHEMA_FILE = new URL('../../hook.schema.json', import.meta.url);

const toolVersion: string = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')).version;

export const DEFAULT_EXCLUDE = [
  'usr/share/doc/**',
  'usr/share/man/**',
  'usr/share/info/**',
  'usr/share/locale/**',
  'usr/share/lintian/**',
];
export const DEFAULT_CMDLINE = 'console=tty0 console=ttyS0,115200';
export const DEFAULT_SIZE_BUDGET = '400MiB';
export const DEFAULT_MODE = 0o644;

/** Why a path glob is unusable, or undefined when it is fine. */
export function globProblem(pattern: string): string | undefined {
  if (pattern.trim() === '') return 'the pattern is empty';
  if (pattern.startsWith('/')) return 'write it relative to the image root, without the leading "/"';
  if (pattern.split('/').includes('..')) return '".." is not allowed';
  try {
    // debug makes picomatch throw on an invalid regular expression instead of matching nothing.
    picomatch.makeRe(pattern, { strictBrackets: true, debug: true } as picomatch.PicomatchOptions);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  return undefined;
}

/** Why a path inside the image is unusable, or undefined when it is fine. */
export function imagePathProblem(path: string): string | undefined {
  if (path.trim() === '') return 'the path is empty';
  if (path.startsWith('/')) return 'write it relative to the image root, without the leading "/"';
  if (path.split('/').includes('..')) return '".." is not allowed';
  if (path.includes('\0')) return 'it contains a NUL byte';
  return undefined;
}

/**
 * A string checked by `problem`; the message names the value (unless it is secret) and says
 * what is wrong.
 */
function checkedString(what: string, problem: (value: string) => string | undefined, secret = false) {
  return z.string().superRefine((value, ctx) => {
    const why = problem(value);
    const named = secret ? what : `${what} "${value}"`;
    if (why !== undefined) ctx.addIssue({ code: 'custom', message: `bad ${named}: ${why}` });
  });
}

/** A string that must match `pattern`; `expected` says in words what is allowed. */
function matching(pattern: RegExp, what: string, expected: string, secret = false) {
  return checkedString(what, (value) => (pattern.test(value) ? undefined : expected), secret).meta({
    pattern: pattern.source,
  });
}

const glob = checkedString('glob', globProblem);
const globs = z.array(glob);
/** Kernel module patterns may start with `!` to exclude what earlier patterns selected. */
const modulePattern = checkedString('glob', (value) => globProblem(value.replace(/^!/, '')));
const imagePath = checkedString('path', imagePathProblem);
const absolutePath = checkedString('path', (value) =>
  value.startsWith('/') ? undefined : 'expected an absolute path such as /bin/sh',
);

const packageName = matching(
  /^[a-z0-9][a-z0-9+.-]+$/,
  'package name',
  'Debian package names are lower case letters, digits and + - .',
);
const unitName = matching(
  /^[A-Za-z0-9:_.\\@-]+\.(service|socket|target|timer|path|mount|automount|swap|slice)$/,
  'unit name',
  'expected a systemd unit name such as docker.service',
);
const accountName = matching(
  /^[a-z_][a-z0-9_-]{0,30}\$?$/,
  'name',
  'expected a lower-case account name (letters, digits, _ and -)',
);
const id = z.int().min(0).max(4294967294);
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
        message: `bad mode ${JSON.stringify(value)}: expected octal such as "0644"`,
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
        ctx.addIssue({ code: 'custom', path: [index, field], message: `duplicate ${what} ${value}` });
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
    suites: z.array(z.string().min(1)).default(DEFAULT_SUITES),
    components: z.array(z.string().min(1)).default(DEFAULT_COMPONENTS),
  })
  .prefault({});

const firmwareSchema = z
  .strictObject({
    packages: z
      .array(packageName)
      .default([])
      .describe('Firmware packages (non-free-firmware) to take files from.'),
    include: globs
      .default([])
      .describe(
        'Extra files to keep, globs relative to lib/firmware; files the selected modules need are kept anyway.',
      ),
  })
  .prefault({});

const kernelSchema = z
  .strictObject({
    package: checkedString('kernel package', (value) =>
      /\{(?!debarch\}|arch\})[^}]*\}/.test(value)
        ? 'the only placeholders are {debarch} and {arch}'
        : undefined,
    )
      .default('linux-image-{debarch}')
      .describe('Kernel package; {debarch} becomes amd64/arm64, {arch} x86_64/aarch64.'),
    modules: z
      .array(modulePattern)
      .default([])
      .describe(
        'Modules to include: globs on paths relative to lib/modules/<version>/, or module names; "!" excludes.',
      ),
    firmware: firmwareSchema,
    cmdline: z.string().default(DEFAULT_CMDLINE).describe('Default kernel command line.'),
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
  password: matching(
    /^(!|\*|!?\$[0-9a-z]+\$\S+)$/,
    'password',
    'expected "!" (locked) or a crypt(3) hash such as $y$... (never a clear-text password)',
    true,
  )
    .optional()
    .describe('"!" (locked, the default) or a crypt(3) hash.'),
});

const symlinkSchema = z.strictObject({
  path: imagePath.describe('Where the link is, relative to the image root.'),
  target: z.string().min(1).describe('What the link points to, as written into the link.'),
});

const fileSchema = z
  .strictObject({
    path: imagePath.describe('Where the file goes, relative to the image root.'),
    content: z.string().optional().describe('The file content.'),
    source: z.string().min(1).optional().describe('A file to copy, relative to the spec file.'),
    mode: mode.optional(),
    owner: matching(
      /^([a-z_][a-z0-9_.-]*|\d+):([a-z_][a-z0-9_.-]*|\d+)$/,
      'owner',
      'expected "user:group" or "uid:gid"',
    )
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
    enable: z.array(unitName).default([]).describe('Units enabled as their [Install] section says.'),
    mask: z.array(unitName).default([]).describe('Units masked (linked to /dev/null).'),
  })
  .prefault({});

const sizeBudget = z
  .union([z.string(), z.int()])
  .superRefine((value, ctx) => {
    if (parseSize(value) === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `bad size ${JSON.stringify(value)}: expected bytes or a size such as "400MiB" or "1GiB"`,
      });
    }
  })
  .transform((value) => parseSize(value) ?? 0)
  .prefault(DEFAULT_SIZE_BUDGET)
  .meta({
    description: 'Uncompressed image size limit: "400MiB", "1GiB" or bytes.',
    default: DEFAULT_SIZE_BUDGET,
  });

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

export const specSchema = z
  .strictObject({
    name: matching(/^[a-z0-9][a-z0-9._-]*$/, 'name', 'expected lower-case letters, digits and . _ -')
      .default('hookos')
      .describe('Image name (os-release ID).'),
    version: z.string().min(1).default(toolVersion).describe('Image version (os-release VERSION_ID).'),
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
      .default(DEFAULT_EXCLUDE)
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
      .superRefine(unique((s) => s.path, 'path', 'symlink'))
      .default([])
      .describe('Links that maintainer scripts would have made (alternatives).'),
    files: z
      .array(fileSchema)
      .superRefine(unique((f) => f.path, 'path', 'file'))
      .default([])
      .describe('Files added to the image.'),
    systemd: systemdSchema,
    sizeBudget,
    compression: z.enum(['zstd', 'gzip']).default('zstd').describe('Initramfs compression.'),
    image: imageSchema,
    output: z
      .strictObject({ dir: z.string().min(1).default('out').describe('Where artifacts are written.') })
      .prefault({}),
  })
  .describe('HookOS image specification (hook.yaml)');

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
