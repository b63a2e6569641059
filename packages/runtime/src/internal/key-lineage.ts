// Rotation lineage of a registry key, for quorum counting (I-GOVERN-2): a key and every successor
// reached from it by `key_rotate` are one approver. A key's predecessor (`rotated_from`) is fixed
// when the key is added and never changes, so the answer for a key id is the same at every
// registry state that holds it and can be cached for the registry's lifetime.
import type { TrustRegistry } from '@helm/trust';

const caches = new WeakMap<TrustRegistry, Map<string, string>>();

/**
 * The key id of the first key of `keyid`'s rotation chain (`keyid` itself when it never came from
 * a rotation), or undefined when the registry does not know the key or its chain is broken.
 */
export function keyLineage(registry: TrustRegistry, keyid: string): string | undefined {
  let cache = caches.get(registry);
  if (!cache) {
    cache = new Map();
    caches.set(registry, cache);
  }
  const hit = cache.get(keyid);
  if (hit !== undefined) return hit;
  const from = new Map<string, string | null>();
  for (const k of registry.stateAt().keys) from.set(k.keyid, k.rotated_from);
  if (!from.has(keyid)) return undefined;
  let at = keyid;
  // Each step goes to a key published earlier, so the walk ends; the bound only guards corruption.
  for (let steps = 0; steps <= from.size; steps++) {
    const prev = from.get(at);
    if (prev === undefined) return undefined;
    if (prev === null) {
      cache.set(keyid, at);
      return at;
    }
    at = prev;
  }
  return undefined;
}
