// @helm/evidencepack and @helm/contracts (not @helm/crypto, whose browser entry needs nothing) use
// Node's Buffer for hex and comparisons; in the page it is the `buffer` package's implementation.
// Imported first by main.ts, so it is in place before any of those modules is evaluated.
import { Buffer } from 'buffer';

(globalThis as { Buffer?: unknown }).Buffer ??= Buffer;
