import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import dockerignore from '@balena/dockerignore';
import { Cmd, Copy, DockerfileParser, Env, type Instruction } from 'dockerfile-ast';

/**
 * A Docker build without a Docker daemon (there is none on these machines): the Dockerfile, parsed
 * by dockerfile-ast (the parser of the Dockerfile language server), is replayed instruction by
 * instruction on this machine. Each stage's file system is a folder (`/app` in the image is
 * `<stage root>/app`), RUN runs `sh -c` in the stage's WORKDIR with its ENV, COPY copies from the
 * build context or `--from` another stage. What cannot be replayed — the base image's own files —
 * is this machine's Node and npm; an instruction this replay does not know fails the build, so a
 * new Dockerfile instruction cannot slip past the test unemulated.
 */
export interface EmulatedStage {
  name: string;
  /** The stage's file system root on this machine. */
  root: string;
  /** The image path of the current WORKDIR, e.g. `/app`. */
  workdir: string;
  env: Record<string, string>;
  user?: string;
  cmd?: string[];
  healthcheck?: string[];
  /** Image paths, relative to the workdir, that COPY wrote (what the image holds besides the base). */
  copied: string[];
}

export interface BuildOptions {
  /** The repository: its Dockerfile, .dockerignore and the files that form the build context. */
  repository: string;
  /** An empty folder for the context and the stages. */
  workspace: string;
  /** Extra variables for RUN (e.g. a private npm cache); the stage's ENV wins over them. */
  runEnv: Record<string, string>;
}

/** The files `docker build` would send: every file under `repository` that .dockerignore leaves in. */
export function buildContext(repository: string): string[] {
  const rules = dockerignore({ ignorecase: false }).add(readFileSync(join(repository, '.dockerignore'), 'utf8'));
  const files: string[] = [];
  const walk = (folder: string): void => {
    for (const entry of readdirSync(join(repository, folder), { withFileTypes: true })) {
      const path = folder === '' ? entry.name : `${folder}/${entry.name}`;
      if (entry.isDirectory()) {
        // An ignored folder is skipped whole: no `!` rule of ours reaches into one (node_modules,
        // keys, dist are big or secret; test/docker/dockerignore.test.ts pins the rules).
        if (!rules.ignores(path)) walk(path);
      } else if (entry.isFile() && !rules.ignores(path)) {
        files.push(path);
      }
    }
  };
  walk('');
  return files;
}

/** Replays every stage of the Dockerfile; returns them by name (the last is the image). */
export function emulateBuild(options: BuildOptions): EmulatedStage[] {
  const contextDir = join(options.workspace, 'context');
  for (const file of buildContext(options.repository)) {
    mkdirSync(dirname(join(contextDir, file)), { recursive: true });
    cpSync(join(options.repository, file), join(contextDir, file));
  }
  const dockerfile = DockerfileParser.parse(readFileSync(join(options.repository, 'Dockerfile'), 'utf8'));
  const args = new Map(dockerfile.getInitialARGs().map((arg) => [arg.getProperty()?.getName() ?? '', arg.getProperty()?.getValue() ?? '']));
  const stages: EmulatedStage[] = [];
  let stage: EmulatedStage | undefined;
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    if (keyword === 'ARG' && stage === undefined) continue;
    if (keyword === 'FROM') {
      const name = instruction.getArguments()[2]?.getValue() ?? `stage-${stages.length}`;
      const image = (instruction.getArguments()[0]?.getValue() ?? '').replace(/\$\{(\w+)\}/g, (_match, variable: string) => args.get(variable) ?? '');
      if (!/^node:\d+/.test(image)) throw new Error(`FROM ${image}: only node:<major>… base images can be emulated`);
      stage = { name, root: join(options.workspace, 'stages', name), workdir: '/', env: {}, copied: [] };
      mkdirSync(stage.root, { recursive: true });
      stages.push(stage);
      continue;
    }
    if (stage === undefined) throw new Error(`${keyword} before the first FROM`);
    replay(instruction, stage, stages, contextDir, options.runEnv);
  }
  return stages;
}

/** The image's Node major, from `ARG NODE_IMAGE=node:<major>…`. */
export function imageNodeMajor(repository: string): number {
  const dockerfile = DockerfileParser.parse(readFileSync(join(repository, 'Dockerfile'), 'utf8'));
  const image = dockerfile.getInitialARGs().find((arg) => arg.getProperty()?.getName() === 'NODE_IMAGE')?.getProperty()?.getValue();
  const major = /^node:(\d+)/.exec(image ?? '')?.[1];
  if (major === undefined) throw new Error('the Dockerfile has no ARG NODE_IMAGE=node:<major>…');
  return Number(major);
}

/** A stage's image path (`/app/dist`, or relative to its WORKDIR) on this machine. */
export function hostPath(stage: EmulatedStage, imagePath: string): string {
  return join(stage.root, posix.resolve(stage.workdir, imagePath));
}

function replay(instruction: Instruction, stage: EmulatedStage, stages: EmulatedStage[], contextDir: string, runEnv: Record<string, string>): void {
  const keyword = instruction.getKeyword();
  const values = instruction.getArguments().map((argument) => argument.getValue());
  switch (keyword) {
    case 'WORKDIR': {
      stage.workdir = posix.resolve(stage.workdir, values[0] ?? '/');
      mkdirSync(hostPath(stage, '.'), { recursive: true });
      return;
    }
    case 'ENV': {
      if (!(instruction instanceof Env)) throw new Error('ENV not parsed as Env');
      for (const property of instruction.getProperties()) {
        stage.env[property.getName()] = property.getValue() ?? '';
      }
      return;
    }
    case 'COPY': {
      if (!(instruction instanceof Copy)) throw new Error('COPY not parsed as Copy');
      const from = instruction.getFromFlag()?.getValue();
      const source = from === undefined || from === null ? undefined : stages.find((candidate) => candidate.name === from);
      if (from && !source) throw new Error(`COPY --from=${from}: no such stage`);
      const destination = values[values.length - 1] ?? '.';
      const sources = values.slice(0, -1);
      for (const path of sources) {
        const origin = source ? hostPath(source, path) : join(contextDir, path);
        if (!existsSync(origin)) throw new Error(`COPY ${path}: not in ${source ? `stage ${source.name}` : 'the build context'}`);
        // Docker: a destination ending in / (or several sources) is a folder the source goes into.
        const intoFolder = destination.endsWith('/') || sources.length > 1;
        const target = intoFolder ? posix.join(destination, posix.basename(path)) : destination;
        cpSync(origin, hostPath(stage, target), { recursive: true });
        stage.copied.push(posix.relative(stage.workdir, posix.resolve(stage.workdir, target)));
      }
      return;
    }
    case 'RUN': {
      const command = instruction.getArgumentsContent();
      if (!command || command.trimStart().startsWith('[')) throw new Error(`RUN ${command ?? ''}: only the shell form is emulated`);
      execFileSync('sh', ['-c', command], { cwd: hostPath(stage, '.'), env: { ...process.env, ...runEnv, ...stage.env }, stdio: ['ignore', 'ignore', 'pipe'] });
      return;
    }
    case 'USER':
      stage.user = values[0];
      return;
    case 'CMD':
      if (!(instruction instanceof Cmd)) throw new Error('CMD not parsed as Cmd');
      stage.cmd = jsonForm(instruction.getArgumentsContent());
      return;
    case 'HEALTHCHECK': {
      const content = instruction.getArgumentsContent() ?? '';
      const at = content.indexOf('CMD ');
      if (at < 0) throw new Error('HEALTHCHECK without CMD');
      stage.healthcheck = jsonForm(content.slice(at + 4));
      return;
    }
    case 'EXPOSE':
      return;
    default:
      throw new Error(`${keyword}: not emulated (teach test/docker/emulated-image.ts what it does)`);
  }
}

function jsonForm(content: string | null): string[] {
  const parsed: unknown = JSON.parse(content ?? '');
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) throw new Error(`not the JSON (exec) form: ${content ?? ''}`);
  return parsed;
}

/** Every file under `folder`, relative to it, skipping `skip` (top-level names). */
export function listFiles(folder: string, skip: string[] = []): string[] {
  const files: string[] = [];
  const walk = (path: string): void => {
    for (const entry of readdirSync(join(folder, path), { withFileTypes: true })) {
      const child = path === '' ? entry.name : `${path}/${entry.name}`;
      if (path === '' && skip.includes(entry.name)) continue;
      if (entry.isDirectory()) walk(child);
      else files.push(child);
    }
  };
  walk('');
  return files;
}
