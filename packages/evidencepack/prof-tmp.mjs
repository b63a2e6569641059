import { readFileSync } from 'node:fs';
import { verifyEvidencePackFile } from '@helm/evidencepack';
const dir = process.argv[2];
const workers = Number(process.argv[3] ?? 0);
const t = performance.now(); const c = process.cpuUsage();
const r = await verifyEvidencePackFile(dir + '/pack.tar', { trustAnchor: readFileSync(dir + '/anchor', 'utf8'), workers, parallelThreshold: 1 });
const u = process.cpuUsage(c);
console.log(JSON.stringify({ ms: performance.now() - t, cpuMs: (u.user + u.system) / 1000, status: r.status, failed: r.checks.filter(x => x.status !== 'PASS' && x.status !== 'SKIPPED').map(x => x.code) }));
