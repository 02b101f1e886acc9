/** `keyhole config schema`: the JSON Schema of keyhole.json, generated from the zod schema. */
import { configJsonSchemaText } from '../config/json-schema.js';
import { parse, UsageError, type Command } from './io.js';

export const configCommand: Command = {
  name: 'config',
  summary: 'config tools: schema (print the JSON Schema of keyhole.json)',
  help: `Usage:
  keyhole config schema     print the JSON Schema of keyhole.json (the package ships it as keyhole.schema.json)

Options:
  -h, --help                this help

Point an editor at it with "$schema" in the config, e.g.
  { "$schema": "./node_modules/mcp-keyhole/keyhole.schema.json", "publicUrl": … }
Strings may hold \${ENV_VAR} placeholders; the schema accepts them wherever it constrains a string.

Example:
  keyhole config schema > keyhole.schema.json
`,
  async run(args, io) {
    const { positionals } = parse('config', args, {}, true);
    if (positionals.length !== 1 || positionals[0] !== 'schema') throw new UsageError(`unknown config command ${JSON.stringify(positionals.join(' '))}: schema`, 'config');
    io.out(configJsonSchemaText().replace(/\n$/, ''));
    return 0;
  },
};
