// Step 3 of docs/spec/pipeline.md §Algorithm, the PEP's first half: strict parse, JCS, ArgsHash.
import { type PrepareArgsResult, prepareArgsText } from '../../pep.js';
import { type Prepared, type Stop, type Surfaced, stop } from './call.js';

/** 3. Exactly one of args / args_text, canonicalized; else ARGS_MALFORMED. */
export function canonicalArgs(state: Surfaced): Prepared | Stop {
  const hasArgs = state.args !== undefined;
  const hasText = state.args_text !== undefined;
  if (hasArgs === hasText)
    return stop(state, 'ARGS_MALFORMED', 'exactly one of args / args_text is required');
  // `args` was canonicalized once when the request was read (the bytes the request digest covers).
  const parsed = hasText
    ? typeof state.args_text === 'string'
      ? prepareArgsText(state.args_text)
      : ({ ok: false, reason: 'args_text must be a string' } as const)
    : (state.args_prepared as PrepareArgsResult);
  if (!parsed.ok) return stop(state, 'ARGS_MALFORMED', parsed.reason);
  return { ...state, prepared: parsed.args, args_hash: parsed.args.args_hash };
}
