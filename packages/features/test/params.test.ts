// Feature param errors are stage-kit's ParamError: runCli prints them as one line, and .key names the param.
import { describe, expect, it } from 'vitest';
import { ParamError } from '@ser/stage-kit';
import { featureParamsFrom, resolveFeatureParams } from '../src/index.ts';

const ok = { n_fft: 1024, win_length: 512, hop_length: 256, n_mels: 128, fmin: 0, fmax: null, ref: 'max', amin: 1e-10, top_db: 80, scaler: 'per_element' };

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return null;
}

describe('feature params through stage-kit', () => {
  it('a bad value is a ParamError whose key is the dotted param', () => {
    const e = thrown(() => featureParamsFrom({ features: { ...ok, n_mels: -3 } }));
    expect(e).toBeInstanceOf(ParamError);
    expect((e as ParamError).key).toBe('features.n_mels');
    expect((e as ParamError).message).toBe('params: features.n_mels: must be > 0, got -3');
  });

  it('an fmax above Nyquist is a ParamError on features.fmax', () => {
    const e = thrown(() => resolveFeatureParams(featureParamsFrom({ features: { ...ok, fmax: 9000 } }), 16000));
    expect(e).toBeInstanceOf(ParamError);
    expect((e as ParamError).key).toBe('features.fmax');
  });

  it('a missing block is a ParamError on features', () => {
    const e = thrown(() => featureParamsFrom({ features: [1, 2] }));
    expect(e).toBeInstanceOf(ParamError);
    expect((e as ParamError).key).toBe('features');
  });
});
