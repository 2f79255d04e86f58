// Public API of @ser/train (the stage itself runs through `ser-train`, see README.md).
export * from './core.ts';
export { runTrain, trainParamsFrom, loadSplit, loadScaler, preprocessFrom, CHECKPOINT_FILE, type TrainStageArgs, type TrainParams } from './stage.ts';
export { provenanceFor, flattenParams, PROVENANCE_FILE, DATA_SOURCES, type DataSource, type Provenance } from './provenance.ts';
