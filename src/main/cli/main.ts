// photo-search command line: each subcommand lives in ./commands/<name>.js and exports
// `run(argv): Promise<number>` (the exit code) and `usage`.
import { UsageError } from './args.js';

const COMMANDS = ['index', 'search', 'status', 'serve', 'export', 'import', 'duplicates', 'model', 'models'] as const;
type CommandName = (typeof COMMANDS)[number];

interface Command {
  usage: string;
  run(argv: string[]): Promise<number>;
}

async function load(name: CommandName): Promise<Command> {
  return (await import(`./commands/${name}.js`)) as Command;
}

async function printHelp(): Promise<void> {
  const lines = ['photo-search: private, local, natural-language photo search', '', 'Commands:'];
  for (const name of COMMANDS) {
    try {
      lines.push(`  ${(await load(name)).usage}`);
    } catch {
      /* a command missing from this build is simply not listed */
    }
  }
  lines.push('', 'Every command takes --library DIR (default: the app\'s library, or $PHOTO_SEARCH_LIBRARY).');
  console.log(lines.join('\n'));
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    await printHelp();
    return name ? 0 : 1;
  }
  if (!(COMMANDS as readonly string[]).includes(name)) {
    console.error(`photo-search: unknown command "${name}". Run photo-search --help.`);
    return 2;
  }
  const command = await load(name as CommandName);
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`usage: photo-search ${command.usage}`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`photo-search ${name}: ${error.message}\nusage: photo-search ${command.usage}`);
      return 2;
    }
    console.error(`photo-search ${name}: ${(error as Error).message}`);
    if (process.env.PHOTO_SEARCH_DEBUG) console.error(error);
    return 1;
  }
}
