// Exponential moving average of the weights (Polyak averaging), kept beside the trained weights:
// validation, early stopping and the saved model use the average, the optimizer the live weights.
// Plain Float32Arrays updated on the main thread after each optimizer step, so the average is
// a function of the step sequence alone (any worker count, resumable from the checkpoint).

/**
 * The decay of update number `step` (0-based): min(decay, (1 + step) / (10 + step)). The warm-up
 * (as timm's ModelEma) keeps the first steps from averaging mostly the random initialisation.
 */
export const emaDecayAt = (decay: number, step: number): number => Math.min(decay, (1 + step) / (10 + step));

/**
 * avg += (1 - decay) * (w - avg), per value, in place. A weight that did not change (the input
 * scaler) keeps its exact value. `avg` and `weights` are in the same order and sizes.
 */
export function emaUpdate(avg: Float32Array[], weights: ArrayLike<number>[], decay: number): void {
  if (avg.length !== weights.length) throw new Error(`emaUpdate: ${avg.length} averages for ${weights.length} weights`);
  const k = 1 - decay;
  for (let i = 0; i < avg.length; i++) {
    const a = avg[i]!;
    const w = weights[i]!;
    if (a.length !== w.length) throw new Error(`emaUpdate: weight ${i} has ${w.length} values, its average ${a.length}`);
    for (let j = 0; j < a.length; j++) a[j] = a[j]! + k * (w[j]! - a[j]!);
  }
}
