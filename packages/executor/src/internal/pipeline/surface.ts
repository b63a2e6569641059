// Steps 1–2 of docs/spec/pipeline.md §Algorithm: the declared surface (Layer A) and the pin check.
import type { ToolDescriptor } from '@helm/contracts/tool';
import type { RegisteredTool } from '../../registry.js';
import {
  type CallState,
  type PipelineContext,
  type Stop,
  type Surfaced,
  stop,
  withEvidence,
} from './call.js';

/** 1. Surface: the tool is registered; its pinned descriptor's digest becomes evidence. */
export function lookUpTool(ctx: PipelineContext, state: CallState): Surfaced | Stop {
  const registered = ctx.registry.get(state.tool);
  if (!registered) return stop(state, 'TOOL_UNKNOWN', `tool ${state.tool} is not registered`);
  return {
    ...state,
    effect_class: registered.descriptor.effect_type,
    evidence: { ...state.evidence, descriptor_digest: registered.descriptor_digest },
    registered,
  };
}

/** 2. Pin check: what the driver advertises (if it can) and any observed drift match the pin. */
export async function checkPin(ctx: PipelineContext, state: Surfaced): Promise<Surfaced | Stop> {
  const tool = state.registered;
  if (tool.driver.describe) {
    let advertised: ToolDescriptor;
    try {
      advertised = await tool.driver.describe();
    } catch {
      return stop(state, 'TOOL_DESCRIPTOR_CHANGED', 'the tool descriptor is unavailable');
    }
    if (advertised?.name !== tool.name) {
      return stop(state, 'TOOL_DESCRIPTOR_CHANGED', 'the tool advertises another name');
    }
    ctx.registry.observe(advertised);
  }
  const current = ctx.registry.get(tool.name) as RegisteredTool;
  if (current.drifted_digest !== null || current.descriptor_digest !== tool.descriptor_digest) {
    const observed = current.drifted_digest ?? current.descriptor_digest;
    return stop(
      withEvidence(state, 'observed_descriptor_digest', observed),
      'TOOL_DESCRIPTOR_CHANGED',
      'the tool descriptor changed; re-pin required',
    );
  }
  return state;
}
