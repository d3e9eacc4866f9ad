import { writeFileSync } from 'node:fs';
import { it } from 'vitest';
import { Field, FixedSizeList, Float32, Int32, Table, tableToIPC, vectorFromArray } from 'apache-arrow';
import { Random } from '../../src/shared/random';
import { BasisError } from '../../src/shared/errors';
import { openActivations } from '../../src/main/formats/open';
it('arrow fuzz probe', async () => {
  const recs = Array.from({ length: 6 }, (_, r) => Array.from({ length: 4 }, (_, p) => [r, p, 1]));
  const t = new Table({ token_ids: vectorFromArray(recs.map(() => [1, 2, 3, 4]), new FixedSizeList(4, new Field('item', new Int32()))), activations: vectorFromArray(recs, new FixedSizeList(4, new Field('item', new FixedSizeList(3, new Field('item', new Float32()))))) });
  const seeds = [tableToIPC(t, 'stream'), tableToIPC(t, 'file')];
  const random = new Random(Number(process.env.SEED ?? 1));
  let bad = 0, ok = 0, ref = 0;
  for (let c = 0; c < 1500; c++) {
    const bytes = seeds[c % 2]!.slice();
    for (let k = 1 + random.integer(6); k > 0; k--) { const at = random.integer(Math.min(bytes.length, 600)); bytes[at] = random.integer(256); }
    writeFileSync('/tmp/fmt/case.arrow', bytes);
    const t0 = Date.now();
    try { const s = await openActivations('/tmp/fmt/case.arrow'); await s.readRows(0, s.description.rows > 3 ? 3 : s.description.rows); await s.close(); ok++; }
    catch (e) { if (!(e instanceof BasisError && e.kind === 'input')) { if (bad++ < 5) { console.log('BAD', c, String(e).slice(0, 200)); writeFileSync(`/tmp/fmt/bad${c}.arrow`, bytes); } } else ref++; }
    if (Date.now() - t0 > 1000) { console.log("SLOW", c, Date.now() - t0); writeFileSync(`/tmp/fmt/slow${c}.arrow`, bytes); }
  }
  console.log('ok', ok, 'refused', ref, 'bad', bad);
}, 120000);
