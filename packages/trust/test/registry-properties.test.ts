// I-REGISTRY-1 / I-REGISTRY-2: property tests over random event sequences by random signers
// (docs/spec/trust-event.md §3, §5a). The attacker holds non-root keys and signs every kind of
// event with them; whatever it does, (a) the root quorum can revoke any non-root key with the very
// next event, (b) a key revoked (or rotated out) at seq r is invalid for every seq ≥ r, (c) an
// answer about seq s is the same whatever the registry went through after s, and (d) heights
// advance by exactly one per accepted event — no event can choose another one.
import { type SignedEnvelope, TRUST_EVENT_TYPE, TRUST_ROLES, type TrustRole } from '@helm/contracts';
import { canonicalBytes, digest, fromBase64Url, type Signer, signEnvelope } from '@helm/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  commitTrustEvent,
  createGenesisEvent,
  parseTrustEvent,
  type TrustChange,
  TrustError,
  TrustRegistry,
  trustEventDigest,
} from '../src/index.ts';
import { nextSeq } from '../src/registry/registry.ts';
import { signer } from './helpers.ts';

const ROOTS = [signer(1), signer(2), signer(3)];
const POOL = Array.from({ length: 16 }, (_, i) => signer(40 + i));
const ALL = [...ROOTS, ...POOL];
const NON_ROOT_ROLES = TRUST_ROLES.filter((r) => r !== 'root');
const RUNS = { seed: 2024, numRuns: 40, endOnFailure: true } as const;

function attempt(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof TrustError) return error.code;
    throw error;
  }
  return 'OK';
}

function seqOf(envelope: SignedEnvelope): number {
  return JSON.parse(new TextDecoder().decode(fromBase64Url(envelope.payload))).seq;
}

// --- the model's view of the registry ---------------------------------------------------------

const holdsRootNow = (r: TrustRegistry, s: Signer) => r.keyValidFor(s.keyId, 'root', r.seq).ok;
const liveNow = (r: TrustRegistry, keyid: string) => {
  const k = r.stateAt().keys.find((x) => x.keyid === keyid);
  return k !== undefined && k.revoked_at === null;
};
/** A quorum of current root signers (every run keeps ≥ threshold root keys: the registry enforces it). */
function quorum(r: TrustRegistry): Signer[] {
  return ALL.filter((s) => holdsRootNow(r, s)).slice(0, r.rootThreshold);
}
const signerOf = (keyid: string) => ALL.find((s) => s.keyId === keyid) as Signer;

/**
 * Random indices pick among the pool keys the registry knows (live or not) — or, for keys to
 * publish or rotate to, among those it has never seen — so that most actions touch real keys.
 */
function known(r: TrustRegistry): Signer[] {
  const ids = new Set(r.stateAt().keys.map((k) => k.keyid));
  return POOL.filter((s) => ids.has(s.keyId));
}
function unseen(r: TrustRegistry): Signer[] {
  const ids = new Set(r.stateAt().keys.map((k) => k.keyid));
  return POOL.filter((s) => !ids.has(s.keyId));
}
function pick(list: readonly Signer[], n: number): Signer | undefined {
  return list.length === 0 ? undefined : list[n % list.length];
}

/** Every key's answer for every role at seq `at`, in a fixed order. */
function answersAt(r: TrustRegistry, at: number): string[] {
  const out: string[] = [];
  for (const s of ALL) {
    for (const role of TRUST_ROLES) {
      const a = r.keyValidFor(s.keyId, role, at);
      out.push(a.ok ? 'ok' : a.code);
    }
  }
  return out;
}

// --- actions ----------------------------------------------------------------------------------

type Action =
  | { readonly t: 'publish'; readonly key: number; readonly roles: readonly TrustRole[] }
  | { readonly t: 'grant' | 'roleRevoke'; readonly key: number; readonly role: TrustRole }
  | { readonly t: 'threshold'; readonly value: number }
  | { readonly t: 'rootRevoke'; readonly key: number }
  | {
      readonly t: 'attack';
      readonly attacker: number;
      readonly kind: AttackKind;
      readonly other: number;
      readonly role: TrustRole;
      readonly value: number;
      readonly thenRevoke: boolean;
    }
  | { readonly t: 'height'; readonly delta: number; readonly byAttacker: boolean; readonly attacker: number };

const ATTACKS = [
  'rotateSelf',
  'rotateSelfAgain',
  'rotateOther',
  'revokeSelf',
  'revokeOther',
  'grantSelf',
  'grantOther',
  'roleRevokeOther',
  'publish',
  'threshold',
  'revokeRoot',
] as const;
type AttackKind = (typeof ATTACKS)[number];

const pool = fc.integer({ min: 0, max: POOL.length - 1 });
const role = fc.constantFrom(...TRUST_ROLES);
const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('publish' as const),
      key: pool,
      roles: fc.uniqueArray(fc.constantFrom(...NON_ROOT_ROLES), { maxLength: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constantFrom('grant' as const, 'roleRevoke' as const), key: pool, role }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('threshold' as const), value: fc.integer({ min: 1, max: 3 }) }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('rootRevoke' as const), key: pool }) },
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('attack' as const),
      attacker: pool,
      kind: fc.constantFrom(...ATTACKS),
      other: pool,
      role,
      value: fc.integer({ min: 1, max: 3 }),
      thenRevoke: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('height' as const),
      delta: fc.oneof(
        fc.integer({ min: -3, max: 5 }).filter((d) => d !== 1),
        fc.constantFrom(1e6, 1e15, 2 ** 53 - 1, 2 ** 53, -1e15),
      ),
      byAttacker: fc.boolean(),
      attacker: pool,
    }),
  },
);

/** The change an attacker (the non-root key `me`) tries, and who signs it. */
function attackChange(
  r: TrustRegistry,
  me: Signer,
  a: Extract<Action, { t: 'attack' }>,
): [TrustChange, Signer[]] | undefined {
  const fresh = pick(unseen(r), a.other);
  const victim = pick(
    known(r).filter((s) => s.keyId !== me.keyId),
    a.other,
  );
  switch (a.kind) {
    case 'rotateSelf':
    case 'rotateSelfAgain': {
      // rotateSelfAgain: the attacker's successor (if it rotated before) rotates once more
      let from = me;
      if (a.kind === 'rotateSelfAgain') {
        const end = liveSuccessor(r, me.keyId);
        if (end !== undefined) from = signerOf(end);
      }
      return (
        fresh && [{ kind: 'key_rotate', keyid: from.keyId, newPublicKey: fresh.publicKey }, [from, fresh]]
      );
    }
    case 'rotateOther': {
      const target = a.value === 3 ? ROOTS[0] : victim;
      return (
        target &&
        fresh && [{ kind: 'key_rotate', keyid: target.keyId, newPublicKey: fresh.publicKey }, [me, fresh]]
      );
    }
    case 'revokeSelf':
      return [{ kind: 'key_revoke', keyid: me.keyId }, [me]];
    case 'revokeOther':
      return victim && [{ kind: 'key_revoke', keyid: victim.keyId }, [me]];
    case 'grantSelf':
      return [{ kind: 'role_grant', keyid: me.keyId, role: a.role }, [me]];
    case 'grantOther':
      return victim && [{ kind: 'role_grant', keyid: victim.keyId, role: a.role }, [me]];
    case 'roleRevokeOther': {
      const target = a.value === 3 ? victim : ROOTS[a.value - 1];
      return target && [{ kind: 'role_revoke', keyid: target.keyId, role: a.role }, [me]];
    }
    case 'publish':
      return fresh && [{ kind: 'key_publish', publicKey: fresh.publicKey, roles: [a.role] }, [me, fresh]];
    case 'threshold':
      return [{ kind: 'root_threshold_set', threshold: a.value }, [me]];
    case 'revokeRoot':
      return [{ kind: 'key_revoke', keyid: (ROOTS[a.value - 1] as Signer).keyId }, [me]];
  }
}

/** The live end of `keyid`'s rotation chain, or undefined when the chain ends in a revocation. */
function liveSuccessor(r: TrustRegistry, keyid: string): string | undefined {
  const keys = new Map(r.stateAt().keys.map((k) => [k.keyid, k]));
  let k = keys.get(keyid);
  while (k?.rotated_to) k = keys.get(k.rotated_to);
  return k && k.revoked_at === null ? k.keyid : undefined;
}

/**
 * Replays a history of random actions. `commit` is the only way events are added: each accepted
 * event must advance the height by exactly one (d), and the registry's answers about the new head
 * are recorded then, to be compared with what it says at the end (c).
 */
function run(actions: readonly Action[], threshold: number): void {
  const genesis = createGenesisEvent(
    { registry: 'prop', rootKeys: ROOTS.map((s) => s.publicKey), rootThreshold: threshold },
    ROOTS.slice(0, threshold),
  );
  const anchor = { genesis: trustEventDigest(genesis) };
  const r = TrustRegistry.fromGenesis(genesis);
  const seen: { answers: string[]; hash: string; head: string }[] = [];
  const record = () => {
    seen[r.seq] = { answers: answersAt(r, r.seq), hash: r.stateHash(), head: r.head };
    expect(digest(canonicalBytes(r.stateAt()))).toBe(seen[r.seq]?.hash);
  };
  record();
  const commit = (change: TrustChange, signers: readonly Signer[]): string => {
    const before = { seq: r.seq, head: r.head, hash: r.stateHash() };
    const code = attempt(() => commitTrustEvent(r, change, signers));
    if (code === 'OK') {
      expect(r.seq).toBe(before.seq + 1);
      record();
    } else {
      expect({ seq: r.seq, head: r.head, hash: r.stateHash() }).toEqual(before);
    }
    return code;
  };
  /** (a): a quorum revocation of the live non-root key `keyid` is accepted as the very next event. */
  const rootRevokesNext = (keyid: string) => {
    const at = r.seq + 1;
    expect(commit({ kind: 'key_revoke', keyid }, quorum(r)), `root quorum revokes ${keyid} at ${at}`).toBe(
      'OK',
    );
    expect(r.keyValidFor(keyid, 'executor', at)).toEqual({ ok: false, code: 'TRUST_KEY_REVOKED' });
  };

  for (const a of actions) {
    switch (a.t) {
      case 'publish': {
        const key = pick(unseen(r), a.key);
        if (!key) break;
        commit({ kind: 'key_publish', publicKey: key.publicKey, roles: a.roles }, quorum(r).slice(0, 1));
        break;
      }
      case 'grant':
      case 'roleRevoke': {
        const key = pick(known(r), a.key);
        if (!key) break;
        const kind = a.t === 'grant' ? 'role_grant' : 'role_revoke';
        commit({ kind, keyid: key.keyId, role: a.role }, quorum(r));
        break;
      }
      case 'threshold':
        commit({ kind: 'root_threshold_set', threshold: a.value }, quorum(r));
        break;
      case 'rootRevoke': {
        const target = pick(known(r), a.key);
        if (target && liveNow(r, target.keyId) && !holdsRootNow(r, target)) rootRevokesNext(target.keyId);
        break;
      }
      case 'attack': {
        const me = pick(known(r), a.attacker);
        if (!me || holdsRootNow(r, me)) break; // only non-root keys attack
        const planned = attackChange(r, me, a);
        if (!planned) break;
        const [change, signers] = planned;
        const subject = 'keyid' in change ? change.keyid : undefined;
        const othersBefore = r.stateAt().keys.filter((k) => k.keyid !== subject);
        const thresholdBefore = r.rootThreshold;
        if (commit(change, signers) === 'OK') {
          // a non-root key changes nothing but its own chain: only a rotation or revocation of a
          // key it signs for, no other key's record, no threshold
          expect(change.kind === 'key_rotate' || change.kind === 'key_revoke', a.kind).toBe(true);
          expect(
            signers.some((s) => s.keyId === subject),
            a.kind,
          ).toBe(true);
          const after = new Map(r.stateAt().keys.map((k) => [k.keyid, k]));
          for (const k of othersBefore) expect(after.get(k.keyid)).toEqual(k);
          expect(r.rootThreshold).toBe(thresholdBefore);
        }
        if (a.thenRevoke) {
          const end = liveSuccessor(r, me.keyId);
          if (end !== undefined && !holdsRootNow(r, signerOf(end))) rootRevokesNext(end);
        }
        break;
      }
      case 'height': {
        // an event naming any height but head + 1, signed by a root quorum or by the attacker
        const attacker = pick(known(r), a.attacker);
        const signers = a.byAttacker && attacker ? [attacker] : quorum(r);
        const body = {
          type: TRUST_EVENT_TYPE,
          kind: 'key_revoke',
          registry: 'prop',
          seq: r.seq + a.delta,
          prev: r.head,
          keyid: (signers[0] as Signer).keyId,
        };
        const before = { seq: r.seq, head: r.head };
        const code = attempt(() => r.append(signEnvelope(body, signers)));
        expect(['TRUST_SEQUENCE_INVALID', 'TRUST_EVENT_MALFORMED']).toContain(code);
        expect({ seq: r.seq, head: r.head }).toEqual(before);
        break;
      }
    }
  }

  const events = r.events();
  // (d) the history's heights are exactly 1, 2, 3, …
  expect(events.map(seqOf)).toEqual(events.map((_, i) => i + 1));

  // (b) every key revoked or rotated out at seq v is invalid, for every role, at every seq v..head
  for (const k of r.stateAt().keys) {
    if (k.revoked_at === null) continue;
    for (let s = k.revoked_at; s <= r.seq; s++) {
      for (const role of TRUST_ROLES) {
        expect(r.keyValidFor(k.keyid, role, s)).toEqual({ ok: false, code: 'TRUST_KEY_REVOKED' });
      }
    }
  }

  // (c) what the registry said about seq s when s was its head is what it says now, and what a
  // fresh load of the same events says; likewise the state hash and head digest of s
  const fresh = TrustRegistry.load(events, anchor);
  for (const [s, then] of seen.entries()) {
    if (then === undefined) continue;
    expect(answersAt(r, s)).toEqual(then.answers);
    expect(answersAt(fresh, s)).toEqual(then.answers);
    expect(r.stateHash(s)).toBe(then.hash);
    expect(fresh.stateHash(s)).toBe(then.hash);
    // the hash is the digest of the canonical state
    expect(digest(canonicalBytes(r.stateAt(s)))).toBe(then.hash);
    expect(r.headAt(s)).toBe(then.head);
  }
  // and a state at s is exactly the state of a registry that only ever saw events 1..s
  for (const s of [1, Math.ceil(events.length / 2), events.length - 1]) {
    if (s < 1) continue;
    expect(r.stateAt(s)).toEqual(TrustRegistry.load(events.slice(0, s), anchor).stateAt());
  }

  // (a) at the end too: every live non-root key, revoked next by the root quorum (on a copy)
  for (const s of POOL) {
    if (!liveNow(r, s.keyId) || holdsRootNow(r, s)) continue;
    const fork = TrustRegistry.load(events, anchor);
    commitTrustEvent(fork, { kind: 'key_revoke', keyid: s.keyId }, quorum(fork));
    expect(fork.seq).toBe(r.seq + 1);
    expect(fork.keyValidFor(s.keyId, 'executor', fork.seq)).toEqual({ ok: false, code: 'TRUST_KEY_REVOKED' });
  }
}

describe('I-REGISTRY-1: heights are bounded — the root quorum can always revoke a non-root key next', () => {
  it('random histories with non-root attackers: (a) revocable next, (b) invalid from the revocation on, (d) +1 per event', () => {
    fc.assert(
      fc.property(
        fc.array(action, { minLength: 12, maxLength: 32, size: 'max' }),
        fc.integer({ min: 1, max: 3 }),
        (actions, t) => run(actions, t),
      ),
      RUNS,
    );
  });

  it('no event field sets a height: only seq is a number besides thresholds, and seq must be head + 1', () => {
    // fields a signer might try to use to choose a validity height are not part of any event
    const r = TrustRegistry.fromGenesis(
      createGenesisEvent({ registry: 'h', rootKeys: [ROOTS[0]!.publicKey], rootThreshold: 1 }, [ROOTS[0]!]),
    );
    const base = {
      type: TRUST_EVENT_TYPE,
      kind: 'key_publish',
      registry: 'h',
      seq: 2,
      prev: r.head,
      key: { keyid: POOL[0]!.keyId, public_key: Buffer.from(POOL[0]!.publicKey).toString('base64url') },
      roles: ['executor'],
    };
    expect(() => parseTrustEvent(base)).not.toThrow();
    for (const field of ['lamport', 'height', 'valid_from', 'valid_until', 'not_before', 'not_after', 'at']) {
      expect(
        attempt(() => parseTrustEvent({ ...base, [field]: 1e15 })),
        field,
      ).toBe('TRUST_EVENT_MALFORMED');
    }
    // self-rotation chains: each link takes effect at exactly the next seq, never later
    commitTrustEvent(r, { kind: 'key_publish', publicKey: POOL[0]!.publicKey, roles: ['executor'] }, [
      ROOTS[0]!,
    ]);
    let from = POOL[0]!;
    for (let i = 1; i <= 5; i++) {
      const to = POOL[i]!;
      const envelope = commitTrustEvent(
        r,
        { kind: 'key_rotate', keyid: from.keyId, newPublicKey: to.publicKey },
        [from, to],
      );
      expect(seqOf(envelope)).toBe(2 + i);
      expect(r.keyValidFor(from.keyId, 'executor', r.seq)).toEqual({ ok: false, code: 'TRUST_KEY_REVOKED' });
      from = to;
    }
    commitTrustEvent(r, { kind: 'key_revoke', keyid: from.keyId }, [ROOTS[0]!]);
    expect(r.seq).toBe(8);
    for (let i = 0; i <= 5; i++) {
      expect(r.keyValidFor(POOL[i]!.keyId, 'executor', r.seq).ok).toBe(false);
    }
  });

  it('the sequence ends at 2^53 − 1, where the registry stops accepting events (TRUST_SEQUENCE_INVALID)', () => {
    expect(nextSeq(1)).toBe(2);
    expect(nextSeq(Number.MAX_SAFE_INTEGER - 1)).toBe(Number.MAX_SAFE_INTEGER);
    for (const head of [Number.MAX_SAFE_INTEGER, 2 ** 53, Number.POSITIVE_INFINITY, Number.NaN, 0, -1, 1.5]) {
      expect(
        attempt(() => nextSeq(head)),
        String(head),
      ).toBe('TRUST_SEQUENCE_INVALID');
    }
    // an event claiming the last seq (or beyond) is refused on a registry that has not got there
    const r = TrustRegistry.fromGenesis(
      createGenesisEvent({ registry: 'cap', rootKeys: [ROOTS[0]!.publicKey], rootThreshold: 1 }, [ROOTS[0]!]),
    );
    for (const seq of [Number.MAX_SAFE_INTEGER, 2 ** 53, 2 ** 60]) {
      const body = {
        type: TRUST_EVENT_TYPE,
        kind: 'key_revoke',
        registry: 'cap',
        seq,
        prev: r.head,
        keyid: ROOTS[0]!.keyId,
      };
      expect(['TRUST_SEQUENCE_INVALID', 'TRUST_EVENT_MALFORMED']).toContain(
        attempt(() => r.append(signEnvelope(body, [ROOTS[0]!]))),
      );
    }
    expect(r.seq).toBe(1);
    expect(r.keyValidFor(ROOTS[0]!.keyId, 'root', Number.MAX_SAFE_INTEGER)).toEqual({
      ok: false,
      code: 'TRUST_KEY_UNKNOWN',
    });
  });
});

describe('I-REGISTRY-2: validity at seq s depends on nothing but s (and the events 1..s)', () => {
  it('answers and state hashes for s never change as the history grows, and equal a replay of 1..s', () => {
    // the same property run, seen from (c): a separate seed so the two explore different histories
    fc.assert(
      fc.property(fc.array(action, { minLength: 8, maxLength: 24, size: 'max' }), (actions) =>
        run(actions, 2),
      ),
      { ...RUNS, seed: 4711, numRuns: 25 },
    );
  });
});
