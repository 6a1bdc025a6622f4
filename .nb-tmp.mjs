const { similarPairs } = await import('/work/main/dist/src/main/core/duplicates/neighbours.js');
const N = Number(process.argv[2]), D = 512;
const rows = new Float32Array(N * D);
for (let r = 0; r < N; r++) { let n = 0; for (let i = 0; i < D; i++) { const v = Math.random() - 0.5; rows[r*D+i] = v; n += v*v; } n = Math.sqrt(n); for (let i = 0; i < D; i++) rows[r*D+i] /= n; }
const source = { dim: D, count: N, *batches() { for (let s = 0; s < N; s += 4096) yield rows.subarray(s * D, Math.min(N, s + 4096) * D); } };
let t = Date.now();
const pairs = await similarPairs(source, { minScore: 0.92, bruteForceLimit: Number(process.argv[3] ?? 2048), queryBatch: Number(process.argv[4] ?? 256) });
console.log(N, 'pairs', pairs.length, 'ms', Date.now() - t);
