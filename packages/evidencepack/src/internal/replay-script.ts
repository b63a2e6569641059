// The offline replay script and its instructions, shipped inside every pack (`replay/`).
export const REPLAY_SCRIPT = `#!/usr/bin/env node
// Offline verification and replay of a HELM EvidencePack. Needs only the published @helm
// packages (npm install @helm/evidencepack) and no network, no HELM data directory.
//   node replay/replay.mjs <pack.tar> [--trust-anchor sha256:<hex>] [--json]
import { readFileSync } from 'node:fs';
import { formatReport, replayEvidencePack, verifyEvidencePack } from '@helm/evidencepack';

const args = process.argv.slice(2);
const pack = args.find((a) => !a.startsWith('--') && !/^sha256:/.test(a));
const at = args.indexOf('--trust-anchor');
const trustAnchor = at >= 0 ? args[at + 1] : undefined;
if (!pack) {
  process.stderr.write('usage: node replay/replay.mjs <pack.tar> [--trust-anchor sha256:<hex>] [--json]\\n');
  process.exit(2);
}
const bytes = new Uint8Array(readFileSync(pack));
const report = await verifyEvidencePack(bytes, trustAnchor ? { trustAnchor } : {});
const replay = replayEvidencePack(bytes, trustAnchor ? { trustAnchor } : {});
if (args.includes('--json')) process.stdout.write(JSON.stringify({ report, replay }, null, 2) + '\\n');
else process.stdout.write(formatReport(report) + '\\n' + replay.summary + '\\n');
process.exit(report.status === 'PASS' && replay.ok ? 0 : 1);
`;

export const REPLAY_README = `# Replaying this EvidencePack offline

This archive is a HELM EvidencePack (format v1, normative spec: docs/spec/evidencepack.md in the
HELM-TS repository). Everything needed to check it is inside: the signed manifest, the signed
receipts and decisions, the ProofGraph nodes, checkpoints, the trust registry snapshot, the policy
bundles, tool descriptors, JSON Schemas and WASM modules in force, and the recorded requests.

1. Install the verifier once: \`npm install @helm/evidencepack\` (or use \`helm verify\`).
2. Pin the trust anchor you expect (the digest of the trust registry genesis event), then run
   \`node replay/replay.mjs pack.tar --trust-anchor sha256:<hex>\` — or \`helm verify pack.tar
   --trust-anchor sha256:<hex>\` followed by \`helm replay pack.tar\`.
3. Exit code 0: every check passed. 1: a check FAILED (tampering or contradiction) or is
   UNVERIFIABLE (missing trust material, e.g. no pinned anchor). Each check has a stable code.
`;
