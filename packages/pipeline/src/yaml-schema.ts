/**
 * What pipeline.yaml and params*.yaml checks share: YAML key -> line lookup (for `file:line`
 * errors) and an ajv instance (loaded lazily: a memo hit never pays for it).
 */
import { createRequire } from 'node:module';
import YAML, { LineCounter, isMap, isScalar, type Document, type YAMLMap } from 'yaml';

/** The part of an ajv error the messages use. */
export interface SchemaError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}
export type Validator = ((v: unknown) => boolean) & { errors?: SchemaError[] | null };

export interface Ajv {
  compile(schema: object): Validator;
  addSchema(schema: object, key: string): void;
  getSchema(ref: string): Validator;
}

export function createAjv(opts: { allErrors: boolean }): Ajv {
  const require = createRequire(import.meta.url);
  const AjvClass = require('ajv').default ?? require('ajv');
  return new AjvClass({ allErrors: opts.allErrors, strict: false }) as Ajv;
}

/** Line numbers (1-based) of keys and values in one parsed YAML document. */
export class Positions {
  constructor(private doc: Document, private lc: LineCounter) {}
  line(pathParts: (string | number)[]): number | undefined {
    // Walk down as far as the path exists; report the key line if possible.
    for (let n = pathParts.length; n > 0; n--) {
      const parent = n > 1 ? this.doc.getIn(pathParts.slice(0, n - 1), true) : this.doc.contents;
      const last = pathParts[n - 1];
      if (isMap(parent)) {
        const pair = (parent as YAMLMap).items.find((p) => isScalar(p.key) && String(p.key.value) === String(last));
        const range = (pair?.key as { range?: number[] } | undefined)?.range;
        if (range) return this.lc.linePos(range[0]!).line;
      }
      const node = this.doc.getIn(pathParts.slice(0, n), true) as { range?: number[] } | undefined;
      if (node?.range) return this.lc.linePos(node.range[0]!).line;
    }
    return undefined;
  }
}

/** Positions of a YAML text already known to parse (errors were reported when it was parsed). */
export function positionsOf(text: string): Positions {
  const lc = new LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter: lc, prettyErrors: false });
  return new Positions(doc, lc);
}
