import { it } from 'vitest';
import { openActivations } from '../../src/main/formats/open';
it('one', async () => {
  try { const s = await openActivations(process.env.CASE!); await s.readRows(0, 1); await s.close(); } catch (e) { console.log((e as Error).stack); }
});
