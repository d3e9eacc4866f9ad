import { describe, expect, it } from 'vitest';
import { defaultRunConfig, parseRunConfig } from '../../../src/shared/runConfig';
import { METHODS } from '../../../src/shared/methods';

describe('run configuration', () => {
  it('gives every method defaults that its own parser accepts', () => {
    for (const method of METHODS) {
      const defaults = defaultRunConfig(method, 64);
      expect(parseRunConfig(defaults, 64)).toEqual(defaults);
    }
  });

  it('reads numbers given as strings, as CLI flags arrive', () => {
    const config = parseRunConfig({ method: 'sae-topk', k: '16', features: '688' }, 172);
    expect(config).toMatchObject({ method: 'sae-topk', k: 16, features: 688 });
  });

  it('refuses unknown fields, naming them', () => {
    expect(() => parseRunConfig({ method: 'ica', alhpa: 0.1 }, 8)).toThrow(/unknown field "alhpa"/);
  });

  it('refuses k above the number of features', () => {
    expect(() => parseRunConfig({ method: 'sae-topk', features: 8, k: 9 }, 4)).toThrow(/k \(9\)/);
  });

  it('refuses an undercomplete ICA basis', () => {
    expect(() => parseRunConfig({ method: 'ica', features: 4 }, 8)).toThrow(/at least as many/);
  });

  it('refuses non-finite and negative numbers', () => {
    expect(() => parseRunConfig({ method: 'ica', alpha: 'NaN' }, 8)).toThrow(/alpha/);
    expect(() => parseRunConfig({ method: 'sae-relu', l1: -1 }, 8)).toThrow(/l1/);
  });
});
