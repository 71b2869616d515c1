// Owns the policy engine's error type: one class with a closed set of codes, an optional
// position (1-based line/column in the HuJSON source) and, for validation, every message at once.

export type PolicyErrorCode =
  | 'ERR_POLICY_SYNTAX'
  | 'ERR_POLICY_UNKNOWN_FIELD'
  | 'ERR_POLICY_INVALID'
  | 'ERR_POLICY_UNKNOWN_TAG'
  | 'ERR_POLICY_UNKNOWN_GROUP'
  | 'ERR_POLICY_UNKNOWN_HOST'
  | 'ERR_POLICY_ALIAS'
  | 'ERR_POLICY_PORTS'
  | 'ERR_POLICY_PROTO'
  | 'ERR_POLICY_SSH'
  | 'ERR_POLICY_TESTS_FAILED'
  | 'ERR_POLICY_MULTIPLE'
  | 'ERR_POLICY_TOPOLOGY';

export interface Position {
  line: number;
  column: number;
}

export class PolicyError extends Error {
  readonly code: PolicyErrorCode;
  readonly line?: number;
  readonly column?: number;
  /** For a multi-error: each collected error (this error's message joins them with newlines). */
  readonly errors: PolicyError[];

  constructor(code: PolicyErrorCode, message: string, pos?: Position, errors: PolicyError[] = []) {
    super(pos ? `${message} (line ${pos.line}, column ${pos.column})` : message);
    this.name = 'PolicyError';
    this.code = code;
    if (pos) {
      this.line = pos.line;
      this.column = pos.column;
    }
    this.errors = errors;
  }

  /** Combine several errors into one; a single error is returned as it is. */
  static combine(errors: PolicyError[]): PolicyError {
    if (errors.length === 1) return errors[0]!;
    const e = new PolicyError('ERR_POLICY_MULTIPLE', errors.map((x) => x.message).join('\n'), undefined, errors);
    return e;
  }
}
