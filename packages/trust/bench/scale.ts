// Registry cost at scale, one phase per fresh child process so peak RSS (maxRSS) belongs to that
// phase alone. Driven by bench/index.ts; by hand (after `pnpm build`):
//   node bench/scale.ts generate <file> <events>   write a snapshot of <events> events to <file>
//   node bench/scale.ts baseline <file>            JSON.parse + bare Ed25519 verify of every signature
//   node bench/scale.ts import <file>              importTrustSnapshot (full verification)
//   node bench/scale.ts statehash <file>           import, then stateHash(seq) at random seqs
// Each phase prints one JSON line: { ms, maxRssMb, ... }.
import { createPublicKey, verify } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type { SignedEnvelope } from '@helm/contracts';
import {
  canonicalize,
  createSigner,
  digestText,
  fromBase64Url,
  preAuthEncoding,
  type Signer,
} from '@helm/crypto';
import {
  commitTrustEvent,
  createGenesisEvent,
  exportTrustSnapshot,
  importTrustSnapshot,
  TrustRegistry,
} from '@helm/trust';

const [mode, file, count] = process.argv.slice(2);
const rssMb = () => process.resourceUsage().maxRSS / 1024;
/** CPU time of this process so far (user + system, ms): comparable on a loaded machine, unlike wall time. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Deterministic distinct seeds: 32 bytes from a counter (never 1..3, the root seeds). */
function keySeed(i: number): Uint8Array {
  const s = new Uint8Array(32);
  new DataView(s.buffer).setUint32(0, i + 1000);
  s[31] = 0xa5;
  return s;
}

/**
 * genesis (3 root keys, threshold 2), then rounds of four events: publish an executor key (one
 * root), grant it approver (another root), the key rotates itself to a fresh key (self + new),
 * the root revokes the successor. Every round adds two keys, so the state grows with the history.
 */
function generate(events: number): void {
  const roots = [1, 2, 3].map((i) => createSigner(new Uint8Array(32).fill(i)));
  const registry = TrustRegistry.fromGenesis(
    createGenesisEvent(
      { registry: 'bench-scale', rootKeys: roots.map((r) => r.publicKey), rootThreshold: 2 },
      roots.slice(0, 2),
    ),
  );
  let n = 0;
  while (registry.seq < events) {
    const k = createSigner(keySeed(n++));
    const k2 = createSigner(keySeed(n++));
    const steps: [Parameters<TrustRegistry['commit']>[0], Signer[]][] = [
      [{ kind: 'key_publish', publicKey: k.publicKey, roles: ['executor'] }, [roots[0] as Signer]],
      [{ kind: 'role_grant', keyid: k.keyId, role: 'approver' }, [roots[1] as Signer]],
      [{ kind: 'key_rotate', keyid: k.keyId, newPublicKey: k2.publicKey }, [k, k2]],
      [{ kind: 'key_revoke', keyid: k2.keyId }, [roots[2] as Signer]],
    ];
    for (const [change, signers] of steps) {
      if (registry.seq >= events) break;
      commitTrustEvent(registry, change, signers);
    }
  }
  writeFileSync(file as string, JSON.stringify(exportTrustSnapshot(registry)));
  console.log(JSON.stringify({ events: registry.seq, genesis: registry.genesis }));
}

function load(): { snapshot: { genesis: string; events: SignedEnvelope[] }; text: string } {
  const text = readFileSync(file as string, 'utf8');
  return { snapshot: JSON.parse(text), text };
}

const spki = (pk: Uint8Array) =>
  createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pk]),
    format: 'der',
    type: 'spki',
  });

/** The floor: parse the file and verify every signature with node:crypto (keys taken from the events). */
function baseline(): void {
  const t0 = performance.now();
  const { snapshot } = load();
  const keys = new Map<string, ReturnType<typeof spki>>();
  let sigs = 0;
  for (const e of snapshot.events) {
    const payload = fromBase64Url(e.payload) as Uint8Array;
    const body = JSON.parse(Buffer.from(payload).toString('utf8'));
    for (const ref of [...(body.root_keys ?? []), body.key, body.new_key]) {
      if (ref && !keys.has(ref.keyid)) keys.set(ref.keyid, spki(fromBase64Url(ref.public_key) as Uint8Array));
    }
    const pae = preAuthEncoding(e.type, payload);
    for (const s of e.signatures) {
      if (!verify(null, pae, keys.get(s.keyid)!, fromBase64Url(s.sig) as Uint8Array))
        throw new Error('bad sig');
      sigs++;
    }
  }
  console.log(
    JSON.stringify({
      ms: performance.now() - t0,
      cpuMs: cpuMs(),
      maxRssMb: rssMb(),
      events: snapshot.events.length,
      sigs,
    }),
  );
}

function importPhase(): TrustRegistry {
  const t0 = performance.now();
  const { snapshot } = load();
  const registry = importTrustSnapshot(snapshot, { genesis: snapshot.genesis });
  const ms = performance.now() - t0;
  if (mode === 'import')
    console.log(JSON.stringify({ ms, cpuMs: cpuMs(), maxRssMb: rssMb(), events: registry.seq }));
  return registry;
}

function stateHashPhase(): void {
  const registry = importPhase();
  // xorshift32, fixed seed: the same seqs every run
  let x = 0x9e3779b9;
  const rand = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  const seqs = Array.from({ length: 20 }, () => 1 + Math.floor(rand() * registry.seq));
  const t0 = performance.now();
  const c0 = cpuMs();
  for (const s of seqs) registry.stateHash(s);
  const perCall = (performance.now() - t0) / seqs.length;
  const perCallCpu = (cpuMs() - c0) / seqs.length;
  // floor: SHA-256 of the JCS text of the same states, the part no implementation can skip
  let floorTotal = 0;
  for (const s of seqs) {
    const text = canonicalize(registry.stateAt(s));
    const f0 = cpuMs();
    digestText(text);
    floorTotal += cpuMs() - f0;
  }
  const floorCpu = floorTotal / seqs.length;
  const h0 = performance.now();
  for (let i = 0; i < 20; i++) registry.stateHash();
  const head = (performance.now() - h0) / 20;
  console.log(
    JSON.stringify({
      ms: perCall,
      cpuMs: perCallCpu,
      floorCpuMs: floorCpu,
      headMs: head,
      maxRssMb: rssMb(),
      events: registry.seq,
    }),
  );
}

if (mode === 'generate') generate(Number(count ?? 100_000));
else if (mode === 'baseline') baseline();
else if (mode === 'import') importPhase();
else if (mode === 'statehash') stateHashPhase();
else throw new Error(`unknown mode ${mode}`);
