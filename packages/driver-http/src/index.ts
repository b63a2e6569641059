// Public API of @helm/driver-http (non-TCB): the SafeExecutor's HTTP driver.
export {
  DEFAULT_MAX_RESPONSE_BYTES,
  endpointOf,
  type FetchFn,
  type HttpDriverOptions,
  httpDriver,
} from './http-driver.js';
