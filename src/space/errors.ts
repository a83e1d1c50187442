import { describeIssues } from '../files/index.js';
import type { FileIssue } from '../files/index.js';

/** One problem in an architecture, located by a path such as `stages[2][0].kernel`. */
export type SpaceIssue = FileIssue;

/** Thrown for an invalid architecture; carries every issue found, each with its path. */
export class ArchitectureError extends Error {
  readonly issues: SpaceIssue[];

  constructor(issues: SpaceIssue[], source?: string) {
    super(describeIssues(source, 'architecture', issues));
    this.name = 'ArchitectureError';
    this.issues = issues;
  }

  static at(path: string, message: string): ArchitectureError {
    return new ArchitectureError([{ path, message }]);
  }
}
