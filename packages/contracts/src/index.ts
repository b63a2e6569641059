export { ENVELOPE_TYPE_PREFIX, type EnvelopeSignature, type SignedEnvelope } from './envelope.js';
export {
  isReasonCode,
  REASON_CODE_LIST,
  REASON_CODES,
  type ReasonCode,
  type ReasonCodeInfo,
} from './reason-codes.js';
export { VERDICTS, type Verdict } from './verdict.js';
export {
  DECISION_TYPE,
  type DecisionRecord,
  decisionSchema,
  GATE_STAGES,
  type GateOutcome,
  type GateStage,
  type GateTraceEntry,
} from './decision.js';
export { type AuthorizedExecutionIntent, INTENT_TYPE, intentSchema } from './intent.js';
