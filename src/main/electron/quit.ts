// Quitting waits for the library host to close the catalogue and stop the indexer, then ends the process.
// It ends with app.exit(), not a second app.quit(): Electron ignores a quit() made while it is already
// quitting, and the process then lingered without a window, holding the single-instance lock so that every
// later launch exited at once.
import type { App } from 'electron';

export function quitAfter(app: Pick<App, 'on' | 'exit'>, cleanUp: () => Promise<void>): void {
  let closing = false;
  app.on('will-quit', (event) => {
    if (closing) return;
    event.preventDefault();
    closing = true;
    void cleanUp()
      .catch((error: Error) => console.error('closing the library:', error.message))
      .finally(() => app.exit(0));
  });
}
