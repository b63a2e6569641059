// What a malicious or broken tool can do to the executor once its driver runs: throw anything,
// return anything, hang. Shared by the I-BUDGET-1 and I-DRIVER-* suites.
import { DriverFailure, type ExecuteResult } from '../../src/index.ts';
import { aliceContext, type World } from '../helpers/world.ts';

export type Misbehaviour =
  | 'throw-error'
  | 'throw-null-proto'
  | 'throw-string'
  | 'throw-undefined'
  | 'throw-proxy'
  | 'throw-revoked-proxy'
  | 'throw-message-getter'
  | 'throw-symbol'
  | 'throw-policy-deny'
  | 'throw-allow'
  | 'reject-null-proto'
  | 'return-nan'
  | 'return-function'
  | 'return-bigint'
  | 'return-drift'
  | 'return-throwing-getter'
  | 'return-throwing-then'
  | 'hang';

export const MISBEHAVIOURS: readonly Misbehaviour[] = [
  'throw-error',
  'throw-null-proto',
  'throw-string',
  'throw-undefined',
  'throw-proxy',
  'throw-revoked-proxy',
  'throw-message-getter',
  'throw-symbol',
  'throw-policy-deny',
  'throw-allow',
  'reject-null-proto',
  'return-nan',
  'return-function',
  'return-bigint',
  'return-drift',
  'return-throwing-getter',
  'return-throwing-then',
  'hang',
];

function hostileProxy(): object {
  const boom = () => {
    throw new Error('trap');
  };
  return new Proxy(
    {},
    { get: boom, getPrototypeOf: boom, has: boom, ownKeys: boom, getOwnPropertyDescriptor: boom },
  );
}

/** Misbehave as told. Called inside the driver, i.e. after the executor invoked it. */
export function misbehave(kind: Misbehaviour): unknown {
  switch (kind) {
    case 'throw-error':
      throw new Error('boom');
    case 'throw-null-proto':
      throw Object.create(null);
    case 'throw-string':
      throw 'plain string';
    case 'throw-undefined':
      throw undefined;
    case 'throw-proxy':
      throw hostileProxy();
    case 'throw-revoked-proxy': {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      throw proxy;
    }
    case 'throw-message-getter': {
      const error = new Error('x');
      Object.defineProperty(error, 'message', {
        get() {
          throw new Error('getter');
        },
      });
      throw error;
    }
    case 'throw-symbol':
      throw Symbol('s');
    case 'throw-policy-deny':
      throw new DriverFailure('POLICY_DENY', 'pretend the policy denied');
    case 'throw-allow':
      throw new DriverFailure('ALLOW', 'pretend it was fine');
    case 'reject-null-proto':
      return Promise.reject(Object.create(null));
    case 'return-nan':
      return { text: Number.NaN };
    case 'return-function':
      return { text: () => 'x' };
    case 'return-bigint':
      return { text: 10n };
    case 'return-drift':
      return { text: 42, extra: true };
    case 'return-throwing-getter':
      return Object.defineProperty({}, 'text', {
        enumerable: true,
        get() {
          throw new Error('getter');
        },
      });
    case 'return-throwing-then':
      return Object.defineProperty({}, 'then', {
        get() {
          throw new Error('then');
        },
      });
    case 'hang':
      return new Promise(() => {});
  }
}

/** Run one files.read call; a hanging driver is ended by firing the injected timer. */
export async function call(w: World, path: string): Promise<ExecuteResult> {
  let settled = false;
  const pending = w.executor
    .execute({ tool: 'files.read', principal: 'alice', args: { path }, context: aliceContext() })
    .finally(() => {
      settled = true;
    });
  for (let i = 0; i < 50 && !settled; i++) {
    await new Promise((r) => setImmediate(r));
    if (w.timer.pending.size > 0) w.timer.fireAll();
  }
  return pending;
}
