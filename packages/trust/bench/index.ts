// @helm/trust timings: `pnpm --filter @helm/trust bench` (after `pnpm build`). No performance target
// is set for this package; the table reports what verification costs, next to the bare cost of the
// signature checks it cannot avoid (node:crypto Ed25519 verify) where one applies.
import { execFileSync } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSigner, fromBase64Url, preAuthEncoding } from '@helm/crypto';
import {
  commitTrustEvent,
  createGenesisEvent,
  exportTrustSnapshot,
  importTrustSnapshot,
  TrustRegistry,
} from '@helm/trust';
import { verifySigstoreBundle, verifySlsaProvenance } from '@helm/trust/sigstore';
import { TufTrustedMetadataSet, targetSearchStep, verifyTarget } from '@helm/trust/tuf';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function time(fn: () => unknown, minMs = 200): Promise<number> {
  // median over ROUNDS of the mean time per call (µs)
  const out: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < minMs) {
      await fn();
      n++;
      t = performance.now();
    }
    out.push(((t - t0) * 1000) / n);
  }
  return median(out);
}

const seed = (i: number) => new Uint8Array(32).fill(i);
const roots = [createSigner(seed(1)), createSigner(seed(2)), createSigner(seed(3))];

// A 201-event history: genesis, then 100 × (publish, grant) with 1-2 root signatures each.
const genesis = createGenesisEvent(
  { registry: 'bench', rootKeys: roots.map((r) => r.publicKey), rootThreshold: 2 },
  roots.slice(0, 2),
);
const registry = TrustRegistry.fromGenesis(genesis);
const keys = [];
for (let i = 0; i < 100; i++) {
  const k = createSigner(Uint8Array.from({ length: 32 }, (_, j) => (i * 7 + j + 11) & 0xff));
  keys.push(k);
  commitTrustEvent(registry, { kind: 'key_publish', publicKey: k.publicKey, roles: ['executor'] }, [
    roots[0]!,
  ]);
  commitTrustEvent(registry, { kind: 'role_grant', keyid: k.keyId, role: 'approver' }, [roots[1]!]);
}
const events = registry.events();
const signatureCount = events.reduce((n, e) => n + e.signatures.length, 0);
const snapshot = JSON.parse(JSON.stringify(exportTrustSnapshot(registry)));

// bare Ed25519 verification of the same signatures (the floor of any verifier)
const spki = (pk: Uint8Array) =>
  createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pk]),
    format: 'der',
    type: 'spki',
  });
const keyById = new Map([...roots, ...keys].map((s) => [s.keyId, spki(s.publicKey)]));
const bare = () => {
  for (const e of events) {
    const pae = preAuthEncoding(e.type, fromBase64Url(e.payload) as Uint8Array);
    for (const s of e.signatures)
      verify(null, pae, keyById.get(s.keyid)!, fromBase64Url(s.sig) as Uint8Array);
  }
};

// TUF over an in-memory copy of the shared repository
const repo = new URL('../../../../shared/testdata/tuf/repository/', import.meta.url);
const file = (p: string) => {
  try {
    return new Uint8Array(readFileSync(new URL(p, repo)));
  } catch {
    return undefined;
  }
};
const files = new Map<string, Uint8Array | undefined>();
for (const p of [
  'metadata/1.root.json',
  'metadata/timestamp.json',
  'metadata/snapshot.json',
  'metadata/targets.json',
  'metadata/role1.json',
  'metadata/role2.json',
  'targets/file1.txt',
  'targets/file3.txt',
])
  files.set(p, file(p));
const trustedRoot = files.get('metadata/1.root.json')!;
// The trusted metadata set alone, driven the way @helm/tuf-client's loop drives it (no fetcher,
// no cache): timestamp, snapshot, then the pre-order delegation search for file3.txt.
const tufRun = async () => {
  const set = new TufTrustedMetadataSet(trustedRoot, Date.UTC(2026, 0, 1));
  set.checkRootFresh();
  set.updateTimestamp(files.get('metadata/timestamp.json')!);
  set.updateSnapshot(files.get('metadata/snapshot.json')!, 'snapshot.json');
  const stack = [{ role: 'targets', delegator: 'root' }];
  while (stack.length > 0) {
    const { role, delegator } = stack.pop()!;
    const md = set.updateTargets(role, delegator, files.get(`metadata/${role}.json`)!, `${role}.json`);
    const step = targetSearchStep(md, role, 'file3.txt');
    if ('target' in step) return verifyTarget(step.target, files.get('targets/file3.txt')!, 'file3.txt');
    if (step.terminating) stack.length = 0;
    stack.push(...[...step.delegations].reverse());
  }
  throw new Error('file3.txt is not listed');
};

// Sigstore
const sig = new URL('../../../../shared/testdata/sigstore/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('manifest.json', sig), 'utf8'));
const sigCase = (name: string) => {
  const c = manifest.cases.find((x: { name: string }) => x.name === name);
  const bundle = JSON.parse(readFileSync(new URL(c.bundle, sig), 'utf8'));
  const root = JSON.parse(readFileSync(new URL(c.trusted_root, sig), 'utf8'));
  const artifact = new Uint8Array(readFileSync(new URL(c.artifact, sig)));
  const opts = {
    trustedRoot: root,
    artifact,
    ...(c.identity ? { identity: { subjectAlternativeName: c.identity, issuer: c.issuer } } : {}),
    ...(c.public_key ? { publicKeys: [readFileSync(new URL(c.public_key, sig), 'utf8')] } : {}),
  };
  return () => verifySigstoreBundle(bundle, opts);
};

// SLSA
const builder = createSigner(seed(20));
const artifactHex = '0'.repeat(64);
const statement = {
  _type: 'https://in-toto.io/Statement/v1',
  subject: [{ name: 'tool.wasm', digest: { sha256: artifactHex } }],
  predicateType: 'https://slsa.dev/provenance/v1',
  predicate: {
    buildDefinition: {
      buildType: 'https://actions.github.io/buildtypes/workflow/v1',
      externalParameters: {
        workflow: {
          repository: 'https://github.com/acme/tools',
          ref: 'refs/heads/main',
          path: '.github/workflows/release.yml',
        },
      },
    },
    runDetails: { builder: { id: 'https://example/builder' } },
  },
};
const payload = Buffer.from(JSON.stringify(statement));
const type = 'application/vnd.in-toto+json';
const dssePae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${payload.length} `), payload]);
const dsse = {
  payloadType: type,
  payload: payload.toString('base64'),
  signatures: [{ keyid: builder.keyId, sig: Buffer.from(builder.sign(dssePae)).toString('base64') }],
};
const slsa = () =>
  verifySlsaProvenance(
    dsse,
    `sha256:${artifactHex}`,
    { builderId: 'https://example/builder', sourceRepository: 'https://github.com/acme/tools' },
    (id) => (id === builder.keyId ? builder.publicKey : undefined),
  );

const rows: [string, number, number | undefined][] = [];
const load = await time(() => TrustRegistry.load(events, { genesis: registry.genesis }));
rows.push([
  `registry load, ${events.length} events / ${signatureCount} sigs (per event)`,
  load / events.length,
  (await time(bare)) / events.length,
]);
rows.push([
  'snapshot import (whole history, per event)',
  (await time(() => importTrustSnapshot(snapshot, { genesis: registry.genesis }))) / events.length,
  undefined,
]);
const lookup = registry.keyLookup();
rows.push([
  'keyValidFor via keyLookup() (per query)',
  await time(() => lookup(keys[50]!.keyId, 'approver', 150), 100),
  undefined,
]);
rows.push(['stateHash() at head (201 events state)', await time(() => registry.stateHash()), undefined]);
rows.push(['TUF trusted set + delegated target (shared repo, in-memory)', await time(tufRun), undefined]);
rows.push([
  'Sigstore rekor2-happy-path (cert, Rekor v2, TSA)',
  await time(sigCase('rekor2-happy-path')),
  undefined,
]);
rows.push([
  'Sigstore intoto-with-custom-trust-root (DSSE, Rekor v1)',
  await time(sigCase('intoto-with-custom-trust-root')),
  undefined,
]);
rows.push([
  'Sigstore managed-key-and-trusted-root (public key)',
  await time(sigCase('managed-key-and-trusted-root')),
  undefined,
]);
rows.push(['SLSA v1 provenance (Ed25519 DSSE)', await time(slsa), undefined]);

const fmt = (us: number) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`);
console.log('| case | ours | baseline (bare Ed25519 verify) | ratio | target | result |');
console.log('|---|---|---|---|---|---|');
for (const [name, ours, base] of rows) {
  console.log(
    `| ${name} | ${fmt(ours)} | ${base === undefined ? '—' : fmt(base)} | ${base === undefined ? '—' : `${(ours / base).toFixed(2)}×`} | none | n/a |`,
  );
}

// Scale: a history of BENCH_TRUST_EVENTS events (default 100 000; 0 skips), each phase in a fresh
// process (bench/scale.ts) so its peak RSS is its own. Baseline: parse the snapshot file and verify
// every signature with node:crypto — the floor of any import.
const scaleEvents = Number(process.env.BENCH_TRUST_EVENTS ?? 100_000);
if (scaleEvents > 0) {
  const dir = mkdtempSync(join(tmpdir(), 'helm-trust-bench-'));
  const file = join(dir, 'snapshot.json');
  const script = fileURLToPath(new URL('./scale.ts', import.meta.url));
  const phase = (mode: string) =>
    JSON.parse(
      (
        execFileSync(process.execPath, [script, mode, file, String(scaleEvents)], {
          encoding: 'utf8',
          maxBuffer: 1 << 20,
        })
          .trim()
          .split('\n')
          .at(-1) as string
      ).trim(),
    ) as { ms: number; cpuMs: number; maxRssMb: number; headMs?: number; floorCpuMs?: number };
  try {
    phase('generate');
    const floor = phase('baseline');
    const imported = phase('import');
    const hashed = phase('statehash');
    const ms = (x: number) => `${(x / 1000).toFixed(2)} s`;
    const mb = (x: number) => `${x.toFixed(0)} MB`;
    console.log('');
    console.log(`| scale (${scaleEvents} events) | ours | baseline (parse + bare Ed25519 verify) | ratio |`);
    console.log('|---|---|---|---|');
    console.log(
      `| snapshot import, time | ${ms(imported.ms)} | ${ms(floor.ms)} | ${(imported.ms / floor.ms).toFixed(2)}× |`,
    );
    console.log(
      `| snapshot import, CPU time | ${ms(imported.cpuMs)} | ${ms(floor.cpuMs)} | ${(imported.cpuMs / floor.cpuMs).toFixed(2)}× |`,
    );
    console.log(
      `| snapshot import, peak RSS | ${mb(imported.maxRssMb)} | ${mb(floor.maxRssMb)} | ${(imported.maxRssMb / floor.maxRssMb).toFixed(2)}× |`,
    );
    const floorCpu = hashed.floorCpuMs ?? Number.NaN;
    console.log(
      `| stateHash(random seq), CPU per call (baseline: SHA-256 of that state's JCS) | ${hashed.cpuMs.toFixed(1)} ms | ${floorCpu.toFixed(1)} ms | ${(hashed.cpuMs / floorCpu).toFixed(2)}× |`,
    );
    console.log(`| stateHash() at head, repeated | ${(hashed.headMs ?? 0).toFixed(3)} ms | — | — |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
