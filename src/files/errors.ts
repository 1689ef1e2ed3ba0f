// Expected failures of the file domain. The GraphQL layer exposes each class as a union member
// (see src/schema/errors.ts); nothing here knows about GraphQL.

export interface FieldError {
  path: string[];
  message: string;
}

/** An expected failure with a stable SCREAMING_SNAKE_CASE code. */
export abstract class FileError extends Error {
  abstract readonly code: string;
}

export class ValidationError extends FileError {
  readonly code = "VALIDATION_FAILED";
  constructor(readonly fieldErrors: FieldError[]) {
    super(fieldErrors.map((error) => `${error.path.join(".")}: ${error.message}`).join("; "));
  }

  static field(path: string[], message: string): ValidationError {
    return new ValidationError([{ path, message }]);
  }
}

export class NotFoundError extends FileError {
  readonly code = "NOT_FOUND";
}

export class ConflictError extends FileError {
  readonly code = "CONFLICT";
}

export class PayloadTooLargeError extends FileError {
  readonly code = "PAYLOAD_TOO_LARGE";
  constructor(
    message: string,
    readonly maxSize: number,
  ) {
    super(message);
  }
}

export class UnsupportedMediaTypeError extends FileError {
  readonly code = "UNSUPPORTED_MEDIA_TYPE";
}

export class UploadIncompleteError extends FileError {
  readonly code = "UPLOAD_INCOMPLETE";
}
