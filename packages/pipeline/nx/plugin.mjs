// Local Nx plugin: each pipeline.yaml stage becomes an Nx target `repro` on its package
// (packages/<stage>), and stage edges become Nx project dependencies. Stage targets never use
// Nx's cache: the engine's lock is the source of truth. (The packages' test, typecheck and build
// targets are not this plugin's: each project.json names them, nx.json's targetDefaults define them.)
import fs from 'node:fs';
import path from 'node:path';
import { loadEngine } from '../bin/load.mjs';

const BIN = 'node packages/pipeline/bin/ser-pipeline.mjs';

/** createNodes and createDependencies both need the pipeline: parse once per process and inputs. */
const memo = new Map();
async function readPipeline(root) {
  const engine = await loadEngine('index');
  const key = ['pipeline.yaml', ...engine.listProfiles(root).map((p) => (p === 'default' ? 'params.yaml' : `params.${p}.yaml`))]
    .map((f) => {
      try {
        return `${f}:${fs.statSync(path.join(root, f)).mtimeMs}`;
      } catch {
        return `${f}:-`;
      }
    })
    .join('|');
  if (!memo.has(key)) memo.set(key, readPipelineUncached(engine, root));
  return memo.get(key);
}

/** Stage name -> its package root (packages/<name before @>) and the union of edges over all profiles. */
async function readPipelineUncached(engine, root) {
  const stages = new Map();
  const edges = new Set();
  for (const profile of engine.listProfiles(root)) {
    let p;
    try {
      p = engine.loadPipeline({ root, profile, lenientParams: true });
    } catch (e) {
      if (profile === 'default') throw e;
      continue;
    }
    const g = engine.buildGraph(p);
    for (const s of p.stages) {
      const prev = stages.get(s.name);
      stages.set(s.name, { desc: s.desc, profiles: [...(prev?.profiles ?? []), profile] });
    }
    for (const [down, ups] of g.upstream) for (const up of ups) edges.add(`${up}\u0000${down}`);
  }
  return { stages, edges: [...edges].map((e) => e.split('\u0000')) };
}

function stageRoot(root, stage) {
  const dir = path.posix.join('packages', stage.split('@')[0]);
  return fs.existsSync(path.join(root, dir, 'package.json')) ? dir : undefined;
}

export const name = 'ser-pipeline';

export const createNodesV2 = [
  'pipeline.yaml',
  async (files, _options, context) => {
    const root = context.workspaceRoot;
    const results = [];
    for (const file of files) {
      if (file !== 'pipeline.yaml') continue;
      const { stages } = await readPipeline(root);
      const projects = {};
      for (const [stage, info] of stages) {
        const dir = stageRoot(root, stage);
        if (!dir) continue;
        const onlyProfile = info.profiles.includes('default') ? '' : ` --profile ${info.profiles[0]}`;
        projects[dir] ??= { root: dir, targets: {} };
        const suffix = stage.includes('@') ? `:${stage.split('@')[1]}` : '';
        projects[dir].targets[`repro${suffix}`] = {
          executor: 'nx:run-commands',
          options: { command: `${BIN} repro ${stage}${onlyProfile}`, cwd: '{workspaceRoot}' },
          cache: false,
          metadata: { description: `pipeline stage '${stage}'${info.desc ? `: ${info.desc}` : ''} (runs stale upstream stages too)` },
        };
        projects[dir].targets[`status${suffix}`] = {
          executor: 'nx:run-commands',
          options: { command: `${BIN} status ${stage}${onlyProfile}`, cwd: '{workspaceRoot}' },
          cache: false,
        };
      }
      results.push([file, { projects }]);
    }
    return results;
  },
];

export const createDependencies = async (_options, context) => {
  const root = context.workspaceRoot;
  if (!fs.existsSync(path.join(root, 'pipeline.yaml'))) return [];
  const { edges } = await readPipeline(root);
  const byRoot = new Map(Object.entries(context.projects).map(([n, c]) => [c.root, n]));
  const deps = [];
  const seen = new Set();
  for (const [up, down] of edges) {
    const a = byRoot.get(stageRoot(root, down) ?? '');
    const b = byRoot.get(stageRoot(root, up) ?? '');
    if (!a || !b || a === b || seen.has(`${a}>${b}`)) continue;
    seen.add(`${a}>${b}`);
    deps.push({ source: a, target: b, type: 'implicit' });
  }
  return deps;
};
