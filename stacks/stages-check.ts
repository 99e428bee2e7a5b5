// What synthesis checks about the stage before any stack is built: the declaration is well formed, and the
// deploy says in one line what the stage is. Secret values are not known here; they are checked by the Preflight
// stack at deploy and by every function at cold start (docs/deploy.md "What is checked where").
import { declarationOf, declarationProblems, stageNotice } from './stages.ts';

/** A declaration that cannot be deployed. One line per problem, naming stacks/stages.ts and the field. */
export class StageDeclarationError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'StageDeclarationError';
  }
}

export function announceStage(stage: string, print: (line: string) => void = console.log): void {
  const resolved = declarationOf(stage);
  const problems = declarationProblems(stage, resolved.declaration);
  if (problems.length > 0) throw new StageDeclarationError(problems);
  print(stageNotice(stage, resolved));
}
