// The label vocabulary every stage shares (the `emotion` column of the tensor files, the
// corpus generator's emotions, the model's classes). Here because every stage already depends
// on stage-kit; a stage that imports it lists this file in its pipeline.yaml deps.

/** Emotion names by label: index = RAVDESS emotion code - 1 (the `emotion` column, 0-7). */
export const EMOTIONS = ['neutral', 'calm', 'happy', 'sad', 'angry', 'fearful', 'disgust', 'surprised'] as const;
export type Emotion = (typeof EMOTIONS)[number];
