/** Stage DAG from path overlap between outs and deps. */
import { isGlob } from './hash.ts';
import { PipelineError, located } from './errors.ts';
import { allOuts, type Pipeline, type Stage } from './parse.ts';

export interface Graph {
  /** stage -> upstream stages it reads from (sorted by pipeline order). */
  upstream: Map<string, string[]>;
  downstream: Map<string, string[]>;
  /** Topological order (ties broken by pipeline.yaml order). */
  order: string[];
}

/** Static prefix of a glob (`data/*.wav` -> `data`). */
function globBase(dep: string): string {
  if (!isGlob(dep)) return dep;
  const parts = dep.split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (isGlob(p)) break;
    out.push(p);
  }
  return out.join('/');
}

/** Does reading `dep` read (part of) `out`? */
export function overlaps(dep: string, out: string): boolean {
  const d = globBase(dep);
  if (d === '') return true;
  return d === out || d.startsWith(out + '/') || out.startsWith(d + '/');
}

/** The stage whose out covers `dep`, if any. */
export function producerOf(p: Pipeline, dep: string): Stage | undefined {
  return p.stages.find((s) => allOuts(s).some((o) => overlaps(dep, o)));
}

export function buildGraph(p: Pipeline): Graph {
  const idx = new Map(p.stages.map((s, i) => [s.name, i]));
  const upstream = new Map<string, string[]>();
  const downstream = new Map<string, string[]>(p.stages.map((s) => [s.name, []]));
  for (const s of p.stages) {
    const ups = new Set<string>();
    for (const d of s.deps) {
      for (const t of p.stages) {
        if (t !== s && allOuts(t).some((o) => overlaps(d, o))) ups.add(t.name);
      }
    }
    const list = [...ups].sort((a, b) => idx.get(a)! - idx.get(b)!);
    upstream.set(s.name, list);
    for (const u of list) downstream.get(u)!.push(s.name);
  }
  const cycle = findCycle(p.stages.map((s) => s.name), upstream);
  if (cycle) {
    const s = p.byName.get(cycle[0]!)!;
    throw new PipelineError(located(p.file, s.line, s.name, `cycle: ${cycle.join(' -> ')}`));
  }
  // Kahn with pipeline order as tie-break: stable, readable order.
  const indeg = new Map(p.stages.map((s) => [s.name, upstream.get(s.name)!.length]));
  const order: string[] = [];
  const ready = p.stages.filter((s) => indeg.get(s.name) === 0).map((s) => s.name);
  while (ready.length) {
    ready.sort((a, b) => idx.get(a)! - idx.get(b)!);
    const n = ready.shift()!;
    order.push(n);
    for (const d of downstream.get(n)!) {
      indeg.set(d, indeg.get(d)! - 1);
      if (indeg.get(d) === 0) ready.push(d);
    }
  }
  return { upstream, downstream, order };
}

function findCycle(names: string[], upstream: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 0 | 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    state.set(n, 1);
    stack.push(n);
    for (const u of upstream.get(n) ?? []) {
      if (state.get(u) === 1) {
        // stack holds a downstream-to-upstream walk; print it in data-flow order.
        const cyc = stack.slice(stack.indexOf(u)).reverse();
        return [...cyc, cyc[0]!];
      }
      if (!state.get(u)) {
        const c = visit(u);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(n, 2);
    return undefined;
  };
  for (const n of names) {
    if (!state.get(n)) {
      const c = visit(n);
      if (c) return c;
    }
  }
  return undefined;
}

/** Transitive closure from `start` following `edges` (start included). */
export function closure(start: string[], edges: Map<string, string[]>): Set<string> {
  const seen = new Set<string>();
  const todo = [...start];
  while (todo.length) {
    const n = todo.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    todo.push(...(edges.get(n) ?? []));
  }
  return seen;
}
