/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`) without a GUI: top functions by self time,
 * top functions by inclusive time, and self time per package / source file.
 *
 *   npx tsx bench/cpuprofile-summary.ts bench/results/profiles/redis.cpuprofile [--top 30] [--skip-idle]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const IDLE = new Set(['(idle)', '(program)', '(garbage collector)']);

function label(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  const url = frame.url.replace(/^file:\/\//, '');
  const short = url.includes('node_modules/') ? url.slice(url.lastIndexOf('node_modules/') + 13) : url.replace(/^.*\/(dist|src|bench)\//, '$1/');
  return `${name} ${short}:${frame.lineNumber + 1}`;
}

function packageOf(frame: CallFrame): string {
  const url = frame.url.replace(/^file:\/\//, '');
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  if (url.startsWith('node:')) return url;
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 13).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]!}/${rest[1]!}` : rest[0]!;
  }
  return url.replace(/^.*\/(dist|src|bench)\//, '$1/');
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' }, 'skip-idle': { type: 'boolean', default: false }, callers: { type: 'string' }, depth: { type: 'string', default: '3' } } });
  const top = Number(values.top);
  for (const file of positionals) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const parent = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
    const selfUs = new Map<number, number>();
    profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

    const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
    const idleUs = [...selfUs.entries()].filter(([id]) => IDLE.has(byId.get(id)!.callFrame.functionName)).reduce((a, [, us]) => a + us, 0);
    const base = values['skip-idle'] ? totalUs - idleUs : totalUs;

    const self = new Map<string, number>();
    const inclusive = new Map<string, number>();
    const packages = new Map<string, number>();
    for (const [id, us] of selfUs) {
      const node = byId.get(id)!;
      if (values['skip-idle'] && IDLE.has(node.callFrame.functionName)) continue;
      self.set(label(node.callFrame), (self.get(label(node.callFrame)) ?? 0) + us);
      packages.set(packageOf(node.callFrame), (packages.get(packageOf(node.callFrame)) ?? 0) + us);
      // Inclusive: credit every distinct function on the stack once.
      const seen = new Set<string>();
      for (let cursor: number | undefined = id; cursor !== undefined; cursor = parent.get(cursor)) {
        const name = label(byId.get(cursor)!.callFrame);
        if (seen.has(name)) continue;
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + us);
      }
    }
    const pct = (us: number) => `${((100 * us) / base).toFixed(1).padStart(5)}%`;
    const print = (title: string, map: Map<string, number>, count: number) => {
      process.stdout.write(`\n${title}\n`);
      for (const [name, us] of [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, count)) process.stdout.write(`  ${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}\n`);
    };
    process.stdout.write(`${file}: ${(totalUs / 1e6).toFixed(2)} s sampled, idle ${((100 * idleUs) / totalUs).toFixed(1)}%${values['skip-idle'] ? ' (percentages below exclude idle)' : ''}\n`);
    if (values.callers !== undefined) {
      // Who calls a function: self time of every frame whose label contains the text, by caller chain (--depth frames).
      const chains = new Map<string, number>();
      const depth = Number(values.depth);
      for (const [id, us] of selfUs) {
        if (!label(byId.get(id)!.callFrame).includes(values.callers)) continue;
        const chain: string[] = [];
        for (let cursor = parent.get(id); cursor !== undefined && chain.length < depth; cursor = parent.get(cursor)) chain.push(label(byId.get(cursor)!.callFrame));
        const key = chain.join('  <-  ');
        chains.set(key, (chains.get(key) ?? 0) + us);
      }
      print(`callers of "${values.callers}"`, chains, top);
      continue;
    }
    print('self time by package / file', packages, 25);
    print('self time by function', self, top);
    print('inclusive time by function', inclusive, top);
  }
}

main();
