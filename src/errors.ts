/**
 * Typed errors, mapped to exit codes in one place (cli.ts): 0 ok, 1 operation failed,
 * 2 usage / validation / precondition refused, 130 interrupted by the user.
 */
export class HaError extends Error {
  readonly exitCode: number = 1;
  /** Extra lines printed after the message (one per problem). */
  readonly details: string[];
  constructor(message: string, details: string[] = []) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

/** Bad flags or arguments. */
export class UsageError extends HaError {
  override readonly exitCode = 2;
}

/** The answers file (or wizard input) is invalid; details hold one line per problem. */
export class ValidationError extends HaError {
  override readonly exitCode = 2;
}

/** A host failed a precondition; nothing was changed anywhere. */
export class PreconditionError extends HaError {
  override readonly exitCode = 2;
}

/** Something failed while acting on hosts. */
export class OperationError extends HaError {
  override readonly exitCode = 1;
}

/** The user pressed Ctrl-C or declined. */
export class CancelledError extends HaError {
  override readonly exitCode = 130;
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof HaError) return err.exitCode;
  if (err instanceof Error && err.name === 'ExitPromptError') return 130; // @inquirer: Ctrl-C at a prompt
  return 1;
}
