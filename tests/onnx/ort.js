// ort.js MODEL.onnx RAW.f32 C H W OUT.f32 - logits of an exported model in
// onnxruntime (npm onnxruntime-node, CPU), for tests/onnx/parity.py.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
	const [model, raw, c, h, w, out] = process.argv.slice(2);
	const per = c * h * w;
	const buf = fs.readFileSync(raw);
	const x = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
	const n = x.length / per;
	const s = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
	const t = new ort.Tensor('float32', x, [n, +c, +h, +w]);
	const r = await s.run({ image: t });
	fs.writeFileSync(out, Buffer.from(r.logits.data.buffer));
}
main().catch((e) => { console.error('ort.js: ' + e.message); process.exit(1); });
