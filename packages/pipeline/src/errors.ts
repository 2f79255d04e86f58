/** An error the user caused (bad pipeline.yaml, bad flag, concurrent run): one clear line, exit 1. */
export class PipelineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PipelineError';
  }
}

/** `file:line: stage 'name': message` (parts omitted when unknown). */
export function located(file: string, line: number | undefined, stage: string | undefined, message: string): string {
  const where = line ? `${file}:${line}` : file;
  return stage ? `${where}: stage '${stage}': ${message}` : `${where}: ${message}`;
}
