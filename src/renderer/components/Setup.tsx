// First run: add photo folders, get the model, start indexing. Each step can be done in any order.
import type { PhotoSearchClient } from '../../shared/api.js';
import type { IndexingProgress, LibraryStatus, ModelStatus } from '../../shared/types.js';
import type { ClientKind } from '../api/client.js';
import { notifyError } from '../toast.js';
import { Icon } from './icons.js';
import { isIndexingActive } from './IndexingPanel.js';
import { FoldersSection, ModelSection } from './LibrarySettings.js';
import { ProgressBar } from './ProgressBar.js';

interface Props {
  client: PhotoSearchClient;
  kind: ClientKind;
  status: LibraryStatus;
  model: ModelStatus | null;
  progress: IndexingProgress | null;
  onStatusChanged(): void;
  onModelChanged(status: ModelStatus): void;
  onDone(): void;
}

export function Setup({ client, kind, status, model, progress, onStatusChanged, onModelChanged, onDone }: Props) {
  const haveFolders = status.folders.length > 0;
  const modelReady = model?.state === 'ready';
  const indexing = isIndexingActive(progress?.state);
  return (
    <div className="setup" data-testid="setup">
      <div className="setup-card">
        <header>
          <div className="logo big" aria-hidden="true"><Icon name="search" size={28} /></div>
          <h1>Welcome to Photo Search</h1>
          <p className="muted">Find any photo by describing it — “a red bicycle by the sea”. Everything stays on this computer.</p>
        </header>
        <ol className="steps">
          <li className={haveFolders ? 'done' : ''}>
            <FoldersSection client={client} kind={kind} folders={status.folders} onChanged={onStatusChanged} />
          </li>
          <li className={modelReady ? 'done' : ''}>
            <ModelSection client={client} kind={kind} model={model} onChanged={onModelChanged} />
          </li>
          <li>
            <section className="settings-section">
              <h3><Icon name="play" /> Index your photos</h3>
              <p className="muted">Indexing reads every photo once to make it searchable; it runs in the background and can be paused.</p>
              {indexing && <ProgressBar value={progress?.state === 'scanning' ? null : progress?.done ?? 0} max={progress?.total || 1} label="Indexing progress" testId="setup-indexing-progress" />}
              <div className="button-row">
                <button
                  type="button"
                  className="primary"
                  data-testid="setup-start-indexing"
                  disabled={!haveFolders || !modelReady || indexing}
                  onClick={() => {
                    void client.startIndexing().then(onDone, notifyError);
                  }}
                >
                  <Icon name="play" /> Start indexing
                </button>
                <button type="button" data-testid="setup-skip" disabled={!haveFolders} onClick={onDone}>
                  Open the library
                </button>
              </div>
            </section>
          </li>
        </ol>
      </div>
    </div>
  );
}
