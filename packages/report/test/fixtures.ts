// Small plot data in the shapes the pipeline's stages write: a training history, an 8x8
// confusion matrix, per-class metrics and a per-class breakdown by a grouping field.
export const CLASSES = ['neutral', 'calm', 'happy', 'sad', 'angry', 'fearful', 'disgust', 'surprised'];

export const EPOCHS = 6;

export const history = {
  epochs: Array.from({ length: EPOCHS }, (_, i) => ({
    epoch: i + 1,
    loss: 2 - 0.2 * i,
    acc: 0.2 + 0.05 * i,
    val_loss: 2.1 - 0.15 * i,
    val_acc: 0.18 + 0.04 * i,
    lr: 0.05,
  })),
};

/** Row i: 10 + i samples of class i, i + 2 of them right, the rest spread over the next classes. */
export const confusion = {
  labels: CLASSES,
  matrix: CLASSES.map((_, i) => CLASSES.map((__, j) => (j === i ? i + 2 : j === (i + 1) % 8 ? 5 : j === (i + 3) % 8 ? 3 : 0))),
  axes: 'rows: true class, columns: predicted',
};

export const perClass = CLASSES.map((c, i) => ({ emotion: c, recall: i / 10, f1: i / 12, precision: i / 9, correct: i, total: 10 }));

export const byIntensity = [...CLASSES, 'all'].flatMap((c, i) => [
  { emotion: c, intensity: 'normal', correct: i, total: 10, accuracy: i / 10 },
  { emotion: c, intensity: 'strong', correct: i + 1, total: 10, accuracy: (i + 1) / 10 },
]);
