// runStageCli: each input/output role becomes its flag, the stage gets StageArgs with the engine's params.
import { afterEach, describe, expect, it } from 'vitest';
import { runStageCli, type StageArgs } from '../src/index.ts';

const saved = process.env['PIPELINE_PARAMS'];
afterEach(() => {
  if (saved === undefined) delete process.env['PIPELINE_PARAMS'];
  else process.env['PIPELINE_PARAMS'] = saved;
});

describe('runStageCli', () => {
  it('maps role flags (a renamed one too) to inputs and outputs, passes the extras, loads the params', async () => {
    process.env['PIPELINE_PARAMS'] = '{"segment":{"offset":0.5}}';
    let got: { args: StageArgs<'in' | 'split', 'dir'>; flags: Record<string, string | boolean> } | undefined;
    await runStageCli(
      {
        inputs: { in: { arg: 'file', desc: 'rows' }, split: { arg: 'file', desc: 'membership' } },
        outputs: { dir: { flag: 'out-dir', arg: 'dir', desc: 'where' } },
        extra: { scratch: { type: 'string', arg: 'dir', desc: 'checkpoints' } },
        prog: 'ser-x',
      },
      async (args, flags) => {
        got = { args, flags };
      },
      ['--split', 's.json', '--in', 'a.arrow', '--out-dir', 'out', '--scratch', 'tmp'],
    );
    expect(got!.args).toEqual({ inputs: { in: 'a.arrow', split: 's.json' }, outputs: { dir: 'out' }, params: { segment: { offset: 0.5 } } });
    expect(got!.flags['scratch']).toBe('tmp');
  });
});
