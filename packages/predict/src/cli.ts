// ser-predict <file.wav | folder ...> [--model <dir>] [--json] [--windows [--hop <s>]] [--strict] [--backend <name>]
import { parsePredictArgs, USAGE } from './core.ts';
import { runPredict } from './predict.ts';

let code: number;
try {
  const args = parsePredictArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    code = 0;
  } else {
    code = await runPredict(args, { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) });
  }
} catch (e) {
  process.stderr.write(`error: ${(e as Error).message}\n${USAGE}\n`);
  code = 2;
}
process.exitCode = code;
