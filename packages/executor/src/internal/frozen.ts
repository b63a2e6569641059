// One deep-freeze for every value the executor hands out or keeps (canonical args, pinned
// descriptors, released outputs): a caller or driver holding a reference cannot change what was
// hashed, signed or stored.
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}
