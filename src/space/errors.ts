/** One problem in an architecture, located by a path such as `stages[2][0].kernel`. */
export interface SpaceIssue {
  path: string;
  message: string;
}

/** Thrown for an invalid architecture; carries every issue found, each with its path. */
export class ArchitectureError extends Error {
  readonly issues: SpaceIssue[];

  constructor(issues: SpaceIssue[], source?: string) {
    const where = source ? `${source}: ` : '';
    const lines = issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`);
    super(`${where}invalid architecture\n${lines.join('\n')}`);
    this.name = 'ArchitectureError';
    this.issues = issues;
  }

  static at(path: string, message: string): ArchitectureError {
    return new ArchitectureError([{ path, message }]);
  }
}
