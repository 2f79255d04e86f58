// Training progress within an epoch: one line redrawn in place on a terminal (bar, step, loss,
// samples/s), plain rate-limited lines in the engine's log and in CI.
import { progressBar, statusLine, type StatusLine } from '@ser/stage-kit';

/** What core's onBatch reports after each training batch. */
export interface BatchInfo {
  /** Rows trained so far in this epoch. */
  rows: number;
  /** Mean training loss over those rows. */
  loss: number;
  /** Seconds since the epoch started. */
  seconds: number;
}

export interface StepProgress {
  epoch: number; // 1-based
  maxEpochs: number;
  step: number; // batches done in this epoch
  steps: number; // batches per epoch
  loss: number;
  samplesPerSec: number;
}

/** `epoch 3/30 [#########>----------] step 12/24 loss 1.8731 118.2 samples/s`; without the bar for plain lines. */
export function stepProgressText(p: StepProgress, withBar: boolean): string {
  const bar = withBar ? ` ${progressBar(p.step, p.steps)}` : '';
  return `epoch ${p.epoch}/${p.maxEpochs}${bar} step ${p.step}/${p.steps} loss ${p.loss.toFixed(4)} ${p.samplesPerSec.toFixed(1)} samples/s`;
}

/**
 * The running epoch's progress on `line`: `batch` takes core's onBatch arguments; `clear` erases
 * a redrawn line before the epoch's summary is logged.
 */
export function epochProgress(maxEpochs: number, line: StatusLine = statusLine()) {
  return {
    batch(epoch: number, step: number, steps: number, info: BatchInfo, now?: number): void {
      const samplesPerSec = info.seconds > 0 ? info.rows / info.seconds : 0;
      // A terminal always shows the last step while validation runs; plain lines leave it to the summary.
      line.update(stepProgressText({ epoch: epoch + 1, maxEpochs, step, steps, loss: info.loss, samplesPerSec }, line.tty), line.tty && step === steps, now);
    },
    clear(): void {
      line.clear();
    },
  };
}
