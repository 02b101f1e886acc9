/**
 * Every `keyhole` command, by name. To add one, write a module exporting a `Command` (io.ts) and list it here.
 */
import type { Command } from './io.js';
import { serveCommand } from './serve-command.js';
import { demoCommand } from './demo-command.js';
import { checkCommand } from './check-command.js';
import { configCommand } from './config-command.js';
import { grantsCommand } from './grants-command.js';
import { eventsCommand } from './events-command.js';
import { keysCommand } from './keys-command.js';
import { vaultCommand } from './vault-command.js';
import { connectCommand } from './connect-command.js';
import { storageCommand } from './storage-command.js';

export const COMMANDS: Record<string, Command> = {
  serve: serveCommand,
  demo: demoCommand,
  check: checkCommand,
  config: configCommand,
  grants: grantsCommand,
  events: eventsCommand,
  keys: keysCommand,
  vault: vaultCommand,
  storage: storageCommand,
  connect: connectCommand,
};
