/**
 * The `keyhole` command's entry point (bin/keyhole.js loads the compiled file). The commands live in src/cli/:
 * main.ts dispatches through the map in commands.ts.
 */
import { main } from './cli/main.js';

main(process.argv.slice(2));
