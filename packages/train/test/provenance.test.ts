// provenance.json's content: flattened params, their hash, the source's facts and the warning.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { flattenParams, provenanceFor } from '../src/provenance.ts';

describe('provenanceFor', () => {
  it('flattens params to sorted dotted keys and hashes them', () => {
    const params = { train: { lr: 0.05, betas: [0.9, 0.999], spec_augment: null }, seed: 42, data: { source: 'synthetic' } };
    const flat = flattenParams(params);
    expect(Object.keys(flat)).toEqual(['data.source', 'seed', 'train.betas', 'train.lr', 'train.spec_augment']);
    const p = provenanceFor(params, 'demo');
    expect(p.params).toEqual(flat);
    expect(p.params_sha256).toBe(createHash('sha256').update(JSON.stringify(flat)).digest('hex'));
    // Key order in params.yaml does not change the hash; a value does.
    expect(provenanceFor({ seed: 42, data: { source: 'synthetic' }, train: { spec_augment: null, betas: [0.9, 0.999], lr: 0.05 } }, 'demo').params_sha256).toBe(p.params_sha256);
    expect(provenanceFor({ ...params, seed: 43 }, 'demo').params_sha256).not.toBe(p.params_sha256);
  });

  it('warns about synthetic data with the profile name; RAVDESS carries its licence', () => {
    const syn = provenanceFor({ data: { source: 'synthetic' } }, 'demo');
    expect(syn.data.warning).toBe('this model was trained on synthetic audio (profile demo); its predictions on real speech are meaningless');
    expect(syn.data.licence).toMatch(/no licence restriction/);
    const rav = provenanceFor({ data: { source: 'ravdess' } }, '');
    expect(rav.profile).toBe('default');
    expect(rav.data.warning).toBeNull();
    expect(rav.data.licence).toMatch(/^CC BY-NC-SA 4\.0/);
  });

  it('names data.source when it is missing or unknown', () => {
    expect(() => provenanceFor({}, 'demo')).toThrow(/params: data\.source is missing/);
    expect(() => provenanceFor({ data: { source: 'mp3s' } }, 'demo')).toThrow(/params: data\.source must be one of "ravdess", "synthetic", got "mp3s"/);
  });
});
