// Times Readability.js 0.6.0 + jsdom 27 over the benchmark pages in the
// given folder (testdata/extraction), the baseline the extraction issue
// names. Run: npm install && npm run bench. Pages that make jsdom throw are
// counted, not retried.
const fs = require('fs'), zlib = require('zlib'), path = require('path');
const { JSDOM, VirtualConsole } = require('jsdom');
const { Readability } = require('@mozilla/readability');
const dir = process.argv[2];
const gt = JSON.parse(fs.readFileSync(path.join(dir, 'ground-truth.json')));
const pages = Object.keys(gt).sort().map(id => ({ id, html: zlib.gunzipSync(fs.readFileSync(path.join(dir, 'html', id + '.html.gz'))).toString('utf8'), url: gt[id].url }));
const vc = new VirtualConsole();
const t0 = process.hrtime.bigint();
let chars = 0;
let failed = 0;
for (const p of pages) {
  try {
    const dom = new JSDOM(p.html, { url: p.url, virtualConsole: vc });
    const art = new Readability(dom.window.document).parse();
    chars += art && art.textContent ? art.textContent.length : 0;
    dom.window.close();
  } catch (e) { failed++; }
}
const s = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(`Readability.js 0.6.0 + jsdom 27: ${pages.length} pages in ${s.toFixed(2)} s = ${(pages.length / s).toFixed(1)} pages/s (${chars} chars, ${failed} pages threw)`);
