// Errors a user can cause (bad file, bad param, bad flag): runCli prints their message as one line.

/** An error the user caused; its message names the culprit (file path, param key, flag). */
export class UserError extends Error {
  readonly userError = true;
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** A bad or missing parameter; the message starts with `params: <dotted.key>`. */
export class ParamError extends UserError {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
    this.name = 'ParamError';
  }
}

/**
 * True for errors to report as one line: UserError, and errors of other packages that mark
 * themselves with `userError: true` (e.g. @ser/tensor-io's TensorFileError), which cannot import
 * this package.
 */
export function isUserError(e: unknown): e is Error {
  return e instanceof UserError || (e instanceof Error && (e as { userError?: unknown }).userError === true);
}
