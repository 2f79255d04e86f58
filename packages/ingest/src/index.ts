// Public API of @ser/ingest.
export {
  EMOTIONS,
  RavdessNameError,
  parseRavdessName,
  clipsSchema,
  decodeClip,
  emptyReport,
  addToReport,
  type ClipLabels,
  type ClipInfo,
  type IngestReport,
} from './core.ts';
export { runIngest, ingestCorpus, findWavs, ingestParamsFrom, emptyDataDirError, type IngestOptions, type OnError } from './stage.ts';
export {
  downloadCorpus,
  downloadFile,
  md5File,
  DownloadError,
  RAVDESS_SPEECH_URL,
  RAVDESS_SPEECH_MD5,
  type CorpusDownload,
  type DownloadOptions,
} from './download.ts';
export { extractZip, listZip, ZipError, type ZipEntry } from './zip.ts';
