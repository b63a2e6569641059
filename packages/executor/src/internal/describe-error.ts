// Text for a thrown value, for diagnostics only. A driver (or any port) can throw anything: a
// null-prototype object, a Proxy whose traps throw, an Error whose `message` getter throws, a
// revoked proxy. Formatting such a value must never throw itself, or the error path would end the
// call as if something else had happened (invariant I-DRIVER-1, docs/threat-model.md).
const MAX_LENGTH = 512;

function clip(text: string): string {
  return text.length > MAX_LENGTH ? `${text.slice(0, MAX_LENGTH)}…` : text;
}

export function describeThrown(error: unknown): string {
  try {
    if (typeof error === 'string') return clip(error);
    if (error === null || (typeof error !== 'object' && typeof error !== 'function')) {
      return clip(String(error));
    }
    const message = (error as { message?: unknown }).message;
    if (typeof message === 'string') return clip(message);
    return clip(String(error));
  } catch {
    return 'an unprintable value was thrown';
  }
}
