/** One problem in a file, located by a path such as `stages[2][0].kernel` or `stop.budget`. */
export interface FileIssue {
  path: string;
  message: string;
}

/**
 * The message for problems found in a file: the first line names the file, the first problem's
 * field and what is wrong, complete on its own; further problems follow, one a line.
 */
export function describeIssues(source: string | undefined, what: string, issues: readonly FileIssue[]): string {
  const line = (i: FileIssue): string => (i.path ? `${i.path}: ${i.message}` : i.message);
  const [first, ...rest] = issues;
  const head = `${source ? `${source}: ` : ''}invalid ${what}${first ? `: ${line(first)}` : ''}`;
  if (rest.length === 0) return head;
  return `${head} (and ${rest.length} more below)\n${rest.map((i) => `  ${line(i)}`).join('\n')}`;
}
