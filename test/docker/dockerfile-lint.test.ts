import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate, ValidationSeverity } from 'dockerfile-utils';

/**
 * The Dockerfile linted by dockerfile-utils, the checker of the Dockerfile language server (VS Code's
 * Docker support): syntax, instruction arguments, flags, stage references, deprecated forms.
 * hadolint has no npm or Debian package (it is a GitHub release binary), so it cannot run here.
 */
const ROOT = join(__dirname, '..', '..');

describe('the Dockerfile', () => {
  it('has no lint problem, warnings included', () => {
    const problems = validate(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'), {
      deprecatedMaintainer: ValidationSeverity.ERROR,
      directiveCasing: ValidationSeverity.ERROR,
      emptyContinuationLine: ValidationSeverity.ERROR,
      instructionCasing: ValidationSeverity.ERROR,
      instructionCmdMultiple: ValidationSeverity.ERROR,
      instructionEntrypointMultiple: ValidationSeverity.ERROR,
      instructionHealthcheckMultiple: ValidationSeverity.ERROR,
      instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
      instructionWorkdirRelative: ValidationSeverity.ERROR,
    });
    expect(problems.map((problem) => [problem.range.start.line + 1, problem.message])).toEqual([]);
  });

  it('is checked: a broken one is reported', () => {
    const problems = validate('FROM node:26-slim\nCOPY --from=nowhere /a /b\nCMD node server.js\ncmd ["node"]\n', { instructionCmdMultiple: ValidationSeverity.ERROR, instructionCasing: ValidationSeverity.ERROR });
    expect(problems.length).toBeGreaterThanOrEqual(2);
  });
});
