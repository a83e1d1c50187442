/**
 * Thrown for a dataset that cannot be read or used. The message always starts with the file,
 * folder or spec at fault, then says what is wrong, so a user can fix it without a debugger.
 */
export class DatasetError extends Error {
  /** The file, folder or spec the problem is in. */
  readonly where: string;

  constructor(where: string, problem: string) {
    super(`${where}: ${problem}`);
    this.name = 'DatasetError';
    this.where = where;
  }
}

/** The message of anything thrown, for wrapping lower-level errors. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
