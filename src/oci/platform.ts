/** Choosing the image manifest for one platform from an OCI index or a Docker manifest list. */
import type { Descriptor, Platform } from './types.ts';

const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', aarch64: 'arm64' };

function normalArch(architecture: string): string {
  return ARCH_ALIASES[architecture] ?? architecture;
}

/** arm64 without a variant means v8 (as containerd's platform matcher has it). */
function normalVariant(architecture: string, variant: string | undefined): string | undefined {
  if (normalArch(architecture) === 'arm64' && (variant === undefined || variant === '')) return 'v8';
  return variant === '' ? undefined : variant;
}

export function platformMatches(candidate: Platform | undefined, wanted: Platform): boolean {
  if (!candidate) return false;
  if ((candidate.os ?? 'linux') !== (wanted.os ?? 'linux')) return false;
  if (normalArch(candidate.architecture) !== normalArch(wanted.architecture)) return false;
  if (wanted.variant === undefined) return true;
  return (
    normalVariant(candidate.architecture, candidate.variant) ===
    normalVariant(wanted.architecture, wanted.variant)
  );
}

/** The first manifest of the index built for `wanted`, or undefined. */
export function selectPlatform(manifests: readonly Descriptor[], wanted: Platform): Descriptor | undefined {
  return manifests.find((descriptor) => platformMatches(descriptor.platform, wanted));
}

export function formatPlatform(platform: Platform | undefined): string {
  if (!platform) return 'unknown';
  const parts = [platform.os ?? 'linux', platform.architecture];
  if (platform.variant) parts.push(platform.variant);
  return parts.join('/');
}
