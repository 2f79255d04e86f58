/**
 * Parsed-YAML memo: `.pipeline/parsed/<md5 of kind+text>.json`. Parsing YAML is the largest
 * cost of a no-op run (~10 ms per file when idle); JSON.parse of the memo is ~20x cheaper.
 * Content-addressed, so it can never be stale.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export function memoParse<T>(root: string | undefined, kind: string, text: string, parse: () => T): T {
  if (!root) return parse();
  const key = crypto.createHash('md5').update(kind).update('\0').update(text).digest('hex');
  const file = path.join(root, '.pipeline', 'parsed', `${key}.json`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    /* miss */
  }
  const v = parse();
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(v));
    fs.renameSync(tmp, file);
  } catch {
    /* read-only workspace: parse every time */
  }
  return v;
}
