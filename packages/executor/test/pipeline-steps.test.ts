// The pipeline's steps (src/internal/pipeline/) one by one: each takes a state and returns a new
// one or a Stop, and never writes the state it was given (docs/spec/pipeline.md §Algorithm); the
// receipt status of an ending is decided by the driver mark, never by the path that ends the call.
import { type DecisionRecord, REASON_CODES, type ReasonCode, type SignedEnvelope } from '@helm/contracts';
import { effectDigest } from '@helm/crypto';
import { describe, expect, it } from 'vitest';
import { buildEffect, functionDriver, ToolRegistry } from '../src/index.ts';
import {
  type CallState,
  type Evaluated,
  isStop,
  type Journaled,
  type PipelineContext,
  type Prepared,
  type Stop,
} from '../src/internal/pipeline/call.ts';
import { canonicalArgs } from '../src/internal/pipeline/canonical-args.ts';
import type { DriverReturned } from '../src/internal/pipeline/driver.ts';
import { endingStatus } from '../src/internal/pipeline/end-call.ts';
import { checkInputSchema } from '../src/internal/pipeline/input-schema.ts';
import { checkOutput } from '../src/internal/pipeline/output.ts';
import { readCall } from '../src/internal/pipeline/request.ts';
import { checkPin, lookUpTool } from '../src/internal/pipeline/surface.ts';
import { readTool } from './helpers/world.ts';

const CODES = Object.keys(REASON_CODES) as ReasonCode[];

/** The state and its evidence frozen: a step that wrote either would throw (ES modules are strict). */
function frozen<S extends CallState>(state: S): S {
  Object.freeze(state.evidence);
  return Object.freeze(state);
}

function context(): PipelineContext {
  const registry = new ToolRegistry();
  registry.register(
    readTool,
    functionDriver(() => ({ text: 'x' })),
  );
  // Only the registry is read by the steps under test; any other port access fails the test.
  return { registry } as unknown as PipelineContext;
}

function expectStop(next: CallState | Stop): Stop {
  expect(isStop(next)).toBe(true);
  return next as Stop;
}

async function prepared(ctx: PipelineContext, args: unknown): Promise<Prepared> {
  const initial = frozen(readCall({ tool: 'files.read', principal: 'alice', args }));
  const surfaced = lookUpTool(ctx, initial);
  if (isStop(surfaced)) throw new Error('unexpected stop');
  expect(initial.evidence).toEqual({});
  expect(initial.effect_class).toBe('unknown');
  const pinned = await checkPin(ctx, frozen(surfaced));
  if (isStop(pinned)) throw new Error('unexpected stop');
  const next = canonicalArgs(pinned);
  if (isStop(next)) throw new Error('unexpected stop');
  expect(pinned.args_hash).toBeNull();
  return frozen(next);
}

function evaluated(state: Prepared): Evaluated {
  const effect = buildEffect(
    state.registered.descriptor,
    state.principal,
    state.prepared.value,
    state.args_hash,
  );
  const decision = { signatures: [] } as unknown as SignedEnvelope;
  const record = { decision_id: 'd', budget_reservation_id: null } as unknown as DecisionRecord;
  return frozen({ ...state, effect, effect_id: effectDigest(effect), evaluation: { decision, record } });
}

describe('pipeline steps', () => {
  it('the ending status is the driver mark: FAILED once invoked, else ESCALATED for an ESCALATE code, else DENIED', () => {
    const state = { driver: 'not-invoked' } as CallState;
    const invoked = { driver: 'invoked' } as CallState;
    for (const code of CODES) {
      const escalate = REASON_CODES[code].verdict === 'ESCALATE';
      expect(endingStatus(state, code)).toBe(escalate ? 'ESCALATED' : 'DENIED');
      expect(endingStatus(invoked, code)).toBe('FAILED');
    }
    expect(CODES.some((code) => REASON_CODES[code].verdict === 'ESCALATE')).toBe(true);
  });

  it('steps 1–3 return new states and leave the (frozen) state they were given as it was', async () => {
    const ctx = context();
    const state = await prepared(ctx, { path: '/data/a' });
    expect(state.effect_class).toBe('fs.read');
    expect(Object.keys(state.evidence)).toEqual(['descriptor_digest']);
    const unknown = expectStop(
      lookUpTool(ctx, frozen(readCall({ tool: 'nope', principal: 'alice', args: {} }))),
    );
    expect(unknown.failure.code).toBe('TOOL_UNKNOWN');
    const both = readCall({ tool: 'files.read', principal: 'alice', args: {}, args_text: '{}' });
    const surfaced = lookUpTool(ctx, frozen(both));
    expect(expectStop(canonicalArgs(frozen(surfaced as Prepared))).failure.code).toBe('ARGS_MALFORMED');
  });

  it('step 6 records the schema errors on the Stop state only', async () => {
    const state = evaluated(await prepared(context(), { path: '' }));
    const stopped = expectStop(checkInputSchema(state));
    expect(stopped.failure.code).toBe('SCHEMA_VIOLATION');
    expect(stopped.state.evidence.schema_errors).toMatch(/^sha256:/);
    expect(state.evidence.schema_errors).toBeUndefined();
    const fine = evaluated(await prepared(context(), { path: '/data/a' }));
    expect(checkInputSchema(fine)).toBe(fine);
  });

  it('steps 11–12: non-JSON and off-schema answers stop FAILED-marked; a good one is a fresh frozen copy', async () => {
    const base = evaluated(await prepared(context(), { path: '/data/a' }));
    const returned = (value: unknown): DriverReturned =>
      frozen({ ...(base as unknown as Journaled), driver: 'invoked', returned: value });
    const notJson = expectStop(checkOutput(returned(() => 1)));
    expect([notJson.failure.code, endingStatus(notJson.state, notJson.failure.code)]).toEqual([
      'DRIVER_ERROR',
      'FAILED',
    ]);
    const drift = expectStop(checkOutput(returned({ size: 1 })));
    expect(drift.failure.code).toBe('ERR_CONNECTOR_CONTRACT_DRIFT');
    expect(drift.state.evidence.schema_errors).toMatch(/^sha256:/);
    const answer = { text: 'hello' };
    const executed = checkOutput(returned(answer));
    if (isStop(executed)) throw new Error('unexpected stop');
    expect(executed.output).toEqual(answer);
    expect(executed.output).not.toBe(answer);
    expect(Object.isFrozen(executed.output)).toBe(true);
  });
});
