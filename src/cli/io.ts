/**
 * What every CLI command shares: its output channels, the environment, a yes/no prompt, and the usage error
 * (exit 2). A command returns its exit code; it never calls process.exit itself.
 */
import { createInterface } from 'node:readline/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { CommandIo } from '../vault/commands.js';

export interface CliIo extends CommandIo {
  /** Asks a yes/no question on the terminal; false when there is no terminal to answer. */
  confirm(question: string): Promise<boolean>;
}

/** One `keyhole <name>` command: its help text (usage, options, an example) and what it runs. */
export interface Command {
  name: string;
  /** One line for `keyhole --help`. */
  summary: string;
  /** The full `keyhole <name> --help` text: Usage, Options, Example. */
  help: string;
  /** The exit code; undefined for a command that keeps running (serve, demo) until a signal stops it. */
  run(args: string[], io: CliIo): Promise<number | undefined>;
}

/** A mistake in the command line: printed with a pointer to `--help`, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(message: string, readonly command?: string) {
    super(message);
  }
}

export function processIo(): CliIo {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
    async confirm(question) {
      if (!process.stdin.isTTY) {
        // Piped input still answers (scripts: `yes | keyhole grants revoke …`); an empty stdin says no.
        const rl = createInterface({ input: process.stdin });
        process.stderr.write(`${question} [y/N] `);
        for await (const line of rl) {
          rl.close();
          return /^y(es)?$/i.test(line.trim());
        }
        return false;
      }
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
      } finally {
        rl.close();
      }
    },
  };
}

/** True when `--help`/`-h` is among the arguments. */
export function wantsHelp(args: string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}

/** node:util parseArgs, strict, with parse errors turned into UsageError for `command`. */
type Options = NonNullable<ParseArgsConfig['options']>;
export type Parsed<T extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: boolean; strict: true }>>;

export function parse<T extends Options>(command: string, args: string[], options: T, allowPositionals = false): Parsed<T> {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message, command);
  }
}

export function intOption(value: string | undefined, name: string, command: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${name} must be a whole number`, command);
  return n;
}

export function portOption(value: string | undefined, name: string, command: string): number | undefined {
  const n = intOption(value, name, command);
  if (n !== undefined && (n < 1 || n > 65535)) throw new UsageError(`${name} must be a port number (1-65535)`, command);
  return n;
}

export function requireConfig(config: string | undefined, command: string): string {
  if (!config) throw new UsageError(`${command} needs --config FILE`, command);
  return config;
}
