// Strict params: params.yaml + the profile overlay checked against params.schema.json before
// any stage runs, with errors naming file, line, key and the expected type or nearest known key.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, count, workspace, type Ws } from './helpers.ts';
import { describe as describeNode, editDistance, nearest } from '../src/params-schema.ts';

let ws: Ws;
afterEach(() => ws && cleanup(ws));

const SCHEMA = JSON.stringify({
  type: 'object',
  additionalProperties: false,
  required: ['segment', 'train'],
  properties: {
    segment: {
      type: 'object',
      additionalProperties: false,
      required: ['offset', 'duration'],
      properties: {
        offset: { description: 's, window start', type: 'number', minimum: 0 },
        duration: { description: 's, window length', type: 'number', exclusiveMinimum: 0 },
      },
    },
    train: {
      type: 'object',
      additionalProperties: false,
      required: ['lr', 'max_epochs'],
      properties: {
        lr: { description: 'learning rate', type: 'number', minimum: 0 },
        max_epochs: { description: 'epochs', type: 'integer', minimum: 1 },
        spec_augment: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { freq_masks: { type: 'integer', minimum: 0 } },
        },
      },
    },
  },
});

const PIPELINE = `stages:
  seg:
    cmd: ${count('seg')}; echo "\${segment.offset}" > seg.txt
    params: [segment]
    outs: [seg.txt]
  train:
    cmd: ${count('train')}; cat seg.txt > model.txt; echo "\${train.lr}" >> model.txt
    deps: [seg.txt]
    params: [train]
    outs: [model.txt]
`;

// Line numbers below refer to this text (line 1 is the schema comment).
const PARAMS = `# yaml-language-server: $schema=./params.schema.json
segment:
  offset: 0.5
  duration: 3.0
train:
  lr: 0.001
  max_epochs: 10
  spec_augment: null
`;

function strictWs(files: Record<string, string> = {}): Ws {
  ws = workspace({ 'pipeline.yaml': PIPELINE, 'params.yaml': PARAMS, 'params.schema.json': SCHEMA, ...files });
  return ws;
}

/** The single error line of a failed command (without the `ser-pipeline: ` prefix). */
function failure(...args: string[]): string {
  const r = ws.cli(...args);
  expect(r.code, r.out).toBe(1);
  expect(r.err.startsWith('ser-pipeline: '), r.err).toBe(true);
  return r.err.trim().slice('ser-pipeline: '.length);
}

describe('params schema: errors name file, line, key and what was expected', () => {
  it('valid params.yaml and overlay pass: status, repro --dry and repro run as before', () => {
    strictWs({ 'params.fast.yaml': '# yaml-language-server: $schema=./params.schema.json\ntrain:\n  lr: 0.05\n  spec_augment: { freq_masks: 2 }\n' });
    expect(ws.cli('status').code).toBe(0);
    expect(ws.cli('repro', '--dry').code).toBe(0);
    const r = ws.cli('repro');
    expect(r.code, r.err).toBe(0);
    expect(ws.read('model.txt')).toBe('0.5\n0.001\n');
    const f = ws.cli('repro', '--profile', 'fast');
    expect(f.code, f.err).toBe(0);
    expect(ws.read('model.txt')).toBe('0.5\n0.05\n');
  });

  it('unknown key in the profile overlay: overlay file and line, nearest known key', () => {
    strictWs({ 'params.fast.yaml': 'train:\n  lr: 0.05\n  lrr: 0.1\n' });
    expect(failure('status', '--profile', 'fast')).toBe('params.fast.yaml:3: train.lrr: unknown key (did you mean train.lr?)');
  });

  it('unknown key in params.yaml: params.yaml and its line; the renamed key is not also reported missing', () => {
    strictWs({ 'params.yaml': PARAMS.replace('  offset: 0.5', '  ofset: 0.25') });
    expect(failure('status')).toBe('params.yaml:3: segment.ofset: unknown key (did you mean segment.offset?)');
  });

  it('a key put in the wrong section names the section that has it', () => {
    strictWs({ 'params.fast.yaml': 'train:\n  offset: 0.25\n' });
    expect(failure('status', '--profile', 'fast')).toBe('params.fast.yaml:2: train.offset: unknown key (did you mean segment.offset?)');
  });

  it('an unknown key with no near neighbour lists the known keys of its section', () => {
    strictWs({ 'params.fast.yaml': 'segment:\n  window: 2\n' });
    expect(failure('status', '--profile', 'fast')).toBe('params.fast.yaml:2: segment.window: unknown key (known keys under segment: offset, duration)');
  });

  it('nested unknown key (inside a mapping value)', () => {
    strictWs({ 'params.fast.yaml': 'train:\n  spec_augment:\n    freq_mask: 2\n' });
    expect(failure('status', '--profile', 'fast')).toBe(
      'params.fast.yaml:3: train.spec_augment.freq_mask: unknown key (did you mean train.spec_augment.freq_masks?)',
    );
  });

  it('wrong type: the expected type and the value given', () => {
    strictWs({ 'params.yaml': PARAMS.replace('lr: 0.001', 'lr: fast') });
    expect(failure('status')).toBe('params.yaml:6: train.lr: expected a number >= 0, got "fast"');
  });

  it('out of range, set by the overlay: the overlay line, not params.yaml', () => {
    strictWs({ 'params.fast.yaml': '# faster\ntrain:\n  max_epochs: 0\n' });
    expect(failure('status', '--profile', 'fast')).toBe('params.fast.yaml:3: train.max_epochs: expected an integer >= 1, got 0');
    ws.write('params.fast.yaml', 'segment:\n  duration: 0\n');
    expect(failure('status', '--profile', 'fast')).toBe('params.fast.yaml:2: segment.duration: expected a number > 0, got 0');
  });

  it('a missing key names its section line and the expected type', () => {
    strictWs({ 'params.yaml': PARAMS.replace('  max_epochs: 10\n', '') });
    expect(failure('status')).toBe('params.yaml:5: train.max_epochs: missing (expected an integer >= 1)');
  });

  it('every problem is listed, params.yaml first, then the overlay, in line order', () => {
    strictWs({ 'params.yaml': PARAMS.replace('lr: 0.001', 'lr: -1'), 'params.fast.yaml': 'train:\n  max_epoch: 3\nsegmnt: {}\n' });
    const r = ws.cli('status', '--profile', 'fast');
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n')).toEqual([
      'ser-pipeline: params.yaml:6: train.lr: expected a number >= 0, got -1',
      'params.fast.yaml:2: train.max_epoch: unknown key (did you mean train.max_epochs?)',
      'params.fast.yaml:3: segmnt: unknown key (did you mean segment?)',
    ]);
  });

  it('fails before any stage runs: repro, repro --dry and repro --force write no out and leave the lock untouched', () => {
    strictWs();
    expect(ws.cli('repro').code).toBe(0);
    const lock = ws.read('pipeline.lock');
    const model = ws.read('model.txt');
    // The case: a typo next to a real change. Without the schema train would rerun with the old lr.
    ws.write('params.yaml', PARAMS.replace('  lr: 0.001\n', '  lr: 0.001\n  lrr: 0.1\n').replace('offset: 0.5', 'offset: 0.25'));
    for (const args of [['repro'], ['repro', '--dry'], ['repro', '--force'], ['status']]) {
      expect(failure(...args)).toBe('params.yaml:7: train.lrr: unknown key (did you mean train.lr?)');
    }
    expect([ws.runs('seg'), ws.runs('train')]).toEqual([1, 1]);
    expect(ws.read('pipeline.lock')).toBe(lock);
    expect(ws.read('model.txt')).toBe(model);
    expect(ws.read('seg.txt')).toBe('0.5\n');
    const staging = path.join(ws.dir, '.pipeline', 'staging');
    expect(fs.existsSync(staging) ? fs.readdirSync(staging) : []).toEqual([]);
  });

  it('a break after a valid run is still caught (the validity memo is keyed by content), and fixing it clears the error', () => {
    strictWs();
    expect(ws.cli('status').code).toBe(0);
    ws.write('params.yaml', PARAMS.replace('max_epochs: 10', 'max_epochs: ten'));
    expect(failure('status')).toBe('params.yaml:7: train.max_epochs: expected an integer >= 1, got "ten"');
    ws.write('params.yaml', PARAMS);
    expect(ws.cli('status').code).toBe(0);
  });

  it('a change to the schema alone is checked too', () => {
    strictWs();
    expect(ws.cli('status').code).toBe(0);
    ws.write('params.schema.json', SCHEMA.replace('"minimum":1', '"minimum":20'));
    expect(failure('status')).toBe('params.yaml:7: train.max_epochs: expected an integer >= 20, got 10');
  });

  it('dag and params diff still work with bad params (they only read)', () => {
    strictWs({ 'params.yaml': PARAMS.replace('lr: 0.001', 'lr: fast') });
    expect(ws.cli('dag').code).toBe(0);
    expect(ws.cli('params', 'diff').code).toBe(0);
  });

  it('without params.schema.json params are not checked (the engine knows no params key)', () => {
    ws = workspace({ 'pipeline.yaml': PIPELINE, 'params.yaml': `${PARAMS}  lrr: 0.1\nextra: 1\n` });
    expect(ws.cli('status').code).toBe(0);
  });

  it('a params.schema.json that is not JSON is named', () => {
    strictWs({ 'params.schema.json': '{ "type": ' });
    expect(failure('status')).toMatch(/^params\.schema\.json: invalid JSON: /);
  });
});

describe('params schema: wording', () => {
  it('describes types, ranges, lists, enums and alternatives', () => {
    expect(describeNode({ type: 'integer', minimum: 1, maximum: 24 })).toBe('an integer in [1, 24]');
    expect(describeNode({ type: ['number', 'null'], exclusiveMinimum: 0 })).toBe('a number > 0 or null');
    expect(describeNode({ type: 'array', minItems: 2, maxItems: 2, items: { type: 'number', minimum: -100, maximum: 200 } })).toBe(
      'a list of 2, each a number in [-100, 200]',
    );
    expect(describeNode({ enum: ['fail', 'skip'] })).toBe('one of "fail", "skip"');
    expect(describeNode({ anyOf: [{ const: 'max' }, { type: 'number', exclusiveMinimum: 0 }] })).toBe('"max" or a number > 0');
  });

  it('suggests a close key (typo, swapped letters, case) and nothing for a different word', () => {
    expect(editDistance('trian', 'train')).toBe(1);
    expect(nearest('lrr', ['lr', 'momentum', 'eps'])).toBe('lr');
    expect(nearest('ofset', ['offset', 'duration'])).toBe('offset');
    expect(nearest('trian', ['seed', 'train', 'split'])).toBe('train');
    expect(nearest('LR', ['lr', 'eps'])).toBe('lr');
    expect(nearest('learning_rate', ['lr', 'momentum'])).toBeUndefined();
  });
});
