export { ENVELOPE_TYPE_PREFIX, type EnvelopeSignature, type SignedEnvelope } from './envelope.js';
export {
  isReasonCode,
  REASON_CODE_LIST,
  REASON_CODES,
  type ReasonCode,
  type ReasonCodeInfo,
} from './reason-codes.js';
export { VERDICTS, type Verdict } from './verdict.js';
