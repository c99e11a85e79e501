// MongoDB-style command errors: every failure the engine reports carries MongoDB's code and codeName.

export const ErrorCodes = {
  InternalError: 1,
  BadValue: 2,
  NoSuchKey: 4,
  FailedToParse: 9,
  TypeMismatch: 14,
  Overflow: 15,
  InvalidLength: 16,
  IllegalOperation: 20,
  EmptyArrayOperation: 21,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  PathNotViable: 28,
  ConflictingUpdateOperators: 40,
  CursorNotFound: 43,
  NamespaceExists: 48,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  CommandNotFound: 59,
  ImmutableField: 66,
  CannotCreateIndex: 67,
  IndexAlreadyExists: 68,
  InvalidIdField: 53,
  DollarPrefixedFieldName: 52,
  UnknownError: 8,
  NotImplemented: 238,
  OperationNotSupportedInTransaction: 263,
  Location15998: 15998,
  Location40324: 40324,
  Location40323: 40323,
  Location16410: 16410,
  QueryFeatureNotAllowed: 224,
  DuplicateKey: 11000,
  InvalidPipelineOperator: 168,
  Location31254: 31254,
  ExceededMemoryLimit: 146,
  AuthenticationFailed: 18,
  CannotIndexParallelArrays: 171,
  NoSuchTransaction: 251,
  DocumentValidationFailure: 121,
  CommandNotSupportedOnView: 166,
  ViewDepthLimitExceeded: 149,
  OptionNotSupportedOnView: 167,
  BSONObjectTooLarge: 10334,
} as const;

const codeNames: Record<number, string> = Object.fromEntries(
  Object.entries(ErrorCodes).map(([name, code]) => [code, name]),
);

/** An error answered to the client as `{ ok: 0, errmsg, code, codeName, ...extra }`. */
export class MongoError extends Error {
  readonly code: number;
  readonly codeName: string;
  readonly extra: Record<string, unknown>;

  constructor(code: number, message: string, extra: Record<string, unknown> = {}) {
    super(message);
    this.name = 'MongoError';
    this.code = code;
    this.codeName = codeNames[code] ?? (code >= 1000 ? `Location${code}` : 'UnknownError');
    this.extra = extra;
  }

  /** The reply document a command answers with. */
  toReply(): Record<string, unknown> {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName, ...this.extra };
  }
}

export function badValue(message: string): MongoError {
  return new MongoError(ErrorCodes.BadValue, message);
}

export function typeMismatch(message: string): MongoError {
  return new MongoError(ErrorCodes.TypeMismatch, message);
}

export function failedToParse(message: string): MongoError {
  return new MongoError(ErrorCodes.FailedToParse, message);
}
