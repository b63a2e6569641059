// usage: node --expose-gc heap.mjs <dir> [snapshot]
import { readFileSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';
import { verifyEvidencePackFile } from '@helm/evidencepack';
const dir = process.argv[2];
const snap = process.argv[3];
let done = false;
const mem = (label) => { gc(); const m = process.memoryUsage(); console.log(label, 'heapUsed', (m.heapUsed/1e6).toFixed(1), 'MB rss', (m.rss/1e6).toFixed(0), 'ext', (m.external/1e6).toFixed(1), 'ab', (m.arrayBuffers/1e6).toFixed(1)); };
mem('start');
const r = await verifyEvidencePackFile(`${dir}/pack.tar`, {
  trustAnchor: readFileSync(`${dir}/anchor`, 'utf8'), workers: 0,
  onProgress: (phase, n, total) => {
    if (phase === 'proofgraph' && n === 0 && !done) { done = true; mem('graph-start'); if (snap) writeHeapSnapshot(snap); }
  },
});
mem('end');
console.log(r.status, r.checks.filter(c=>c.status!=='PASS').map(c=>c.code+':'+c.status));
const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status','utf8'))[1];
console.log('VmHWM MB', (hwm/1024).toFixed(0));
