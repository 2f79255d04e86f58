import { describe, expect, it } from 'vitest';
import { statusLine } from '@ser/stage-kit';
import { epochProgress, stepProgressText } from '../src/progress.ts';

describe('training progress', () => {
  const p = { epoch: 3, maxEpochs: 30, step: 12, steps: 24, loss: 1.87314, samplesPerSec: 118.24 };

  it('names epoch, step, loss and samples/s, with a bar on a terminal only', () => {
    expect(stepProgressText(p, true)).toBe('epoch 3/30 [##########>---------] step 12/24 loss 1.8731 118.2 samples/s');
    expect(stepProgressText(p, false)).toBe('epoch 3/30 step 12/24 loss 1.8731 118.2 samples/s');
  });

  it('on a terminal: one line per epoch, redrawn in place, the last step always shown, erased before the summary', () => {
    const out: string[] = [];
    const bar = epochProgress(2, statusLine({ tty: true, columns: 200, write: (s) => out.push(s) }));
    bar.batch(0, 1, 3, { rows: 16, loss: 2, seconds: 0.5 }, 0);
    bar.batch(0, 2, 3, { rows: 32, loss: 1.9, seconds: 1 }, 50); // within 100 ms: skipped
    bar.batch(0, 3, 3, { rows: 48, loss: 1.8, seconds: 1.5 }, 60); // last step: always drawn
    bar.clear();
    expect(out).toEqual([
      '\r\x1b[2Kepoch 1/2 [######>-------------] step 1/3 loss 2.0000 32.0 samples/s',
      '\r\x1b[2Kepoch 1/2 [####################] step 3/3 loss 1.8000 32.0 samples/s',
      '\r\x1b[2K',
    ]);
    expect(out.join('')).not.toContain('\n');
  });

  it('without a terminal (the engine log, CI): plain lines, at most one per second, nothing to erase', () => {
    const out: string[] = [];
    const bar = epochProgress(2, statusLine({ tty: false, write: (s) => out.push(s) }));
    bar.batch(0, 1, 3, { rows: 16, loss: 2, seconds: 0.5 }, 0);
    bar.batch(0, 2, 3, { rows: 32, loss: 1.9, seconds: 1 }, 500);
    bar.batch(0, 3, 3, { rows: 48, loss: 1.8, seconds: 1.5 }, 1200);
    bar.clear();
    expect(out).toEqual(['epoch 1/2 step 1/3 loss 2.0000 32.0 samples/s\n', 'epoch 1/2 step 3/3 loss 1.8000 32.0 samples/s\n']);
  });
});
