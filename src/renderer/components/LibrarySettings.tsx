// Library folders and the CLIP model: used by the first-run screen and by the settings drawer.
import { useEffect, useId, useState } from 'react';
import type { PhotoSearchClient } from '../../shared/api.js';
import type { LibraryFolder, ModelStatus, ModelSwitchPreview, ProviderChoice, ProviderSetting } from '../../shared/types.js';
import { PROVIDER_CHOICES } from '../../shared/types.js';
import type { ClientKind } from '../api/client.js';
import { formatBytes, formatCount, formatDuration } from '../format.js';
import { dismissKeyed, notify, notifyError } from '../toast.js';
import { ConfirmDialog } from './ConfirmDialog.js';
import { Icon } from './icons.js';
import { ProgressBar } from './ProgressBar.js';

interface FoldersProps {
  client: PhotoSearchClient;
  kind: ClientKind;
  folders: LibraryFolder[];
  onChanged(): void;
  /** Called after a folder was added (the settings drawer starts indexing it). */
  onAdded?(folder: LibraryFolder): void;
}

/** "not a folder: /x" → "Not a folder: /x." (server messages are written for logs). */
function sentence(message: string): string {
  const text = message.trim();
  if (!text) return 'Something went wrong.';
  return text[0].toUpperCase() + text.slice(1) + (/[.!?…]$/.test(text) ? '' : '.');
}

/** A path field (web mode, or typed by hand) plus a native picker when the desktop app has one. */
function PathField({ label, buttonLabel, testId, kind, client, onSubmit, example }: {
  label: string;
  /** An example path for the placeholder. */
  example: string;
  buttonLabel: string;
  testId: string;
  kind: ClientKind;
  client: PhotoSearchClient;
  onSubmit(path: string): Promise<void>;
}) {
  const [path, setPath] = useState('');
  const [busy, setBusy] = useState(false);
  /** Shown under the field it concerns (a toast would cover the next field and vanish). */
  const [error, setError] = useState<string | null>(null);
  const errorId = useId();
  async function submit(value: string) {
    const clean = value.trim();
    if (!clean) return;
    setBusy(true);
    setError(null);
    try {
      await onSubmit(clean);
      setPath('');
    } catch (failure) {
      setError(sentence(failure instanceof Error ? failure.message : String(failure)));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form
      className="path-field"
      onSubmit={(e) => {
        e.preventDefault();
        void submit(path);
      }}
    >
      <div className="path-field-row">
        {kind === 'desktop' && (
          <button
            type="button"
            disabled={busy}
            onClick={() => void client.pickFolder().then((picked) => (picked ? submit(picked) : undefined), notifyError)}
            data-testid={`${testId}-browse`}
          >
            <Icon name="folder" /> Choose…
          </button>
        )}
        <input
          type="text"
          dir="auto"
          value={path}
          onChange={(e) => {
            setPath(e.target.value);
            setError(null);
          }}
          placeholder={kind === 'desktop' ? `or type a path, e.g. ${example}` : `Folder path, e.g. ${example}`}
          aria-label={label}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? errorId : undefined}
          data-testid={`${testId}-input`}
          spellCheck={false}
        />
        <button type="submit" className="primary" disabled={busy || !path.trim()} data-testid={`${testId}-submit`}>
          {busy ? <span className="spinner small" aria-label="Working" /> : null}
          {buttonLabel}
        </button>
      </div>
      {error && <p className="error-text field-error" id={errorId} role="alert" data-testid={`${testId}-error`}>{error}</p>}
    </form>
  );
}

export function FoldersSection({ client, kind, folders, onChanged, onAdded }: FoldersProps) {
  const [removing, setRemoving] = useState<LibraryFolder | null>(null);
  return (
    <section className="settings-section" aria-labelledby="folders-heading">
      <h3 id="folders-heading"><Icon name="folder" /> Photo folders</h3>
      {folders.length === 0 ? (
        <p className="muted">No folders yet. Add the folders that hold your photos; subfolders are included.</p>
      ) : (
        <ul className="folder-list" data-testid="folder-list">
          {folders.map((folder) => (
            <li key={folder.id}>
              <span className="path" dir="auto" title={folder.path}>{folder.path}</span>
              <span className="muted">{formatCount(folder.photoCount)} photos</span>
              <button
                type="button"
                className="icon-button"
                aria-label={`Remove folder ${folder.path}`}
                data-testid="remove-folder"
                onClick={() => setRemoving(folder)}
              >
                <Icon name="close" />
              </button>
            </li>
          ))}
        </ul>
      )}
      <PathField
        label="Folder to add"
        example="/home/me/Pictures"
        buttonLabel="Add folder"
        testId="add-folder"
        kind={kind}
        client={client}
        onSubmit={async (path) => {
          const folder = await client.addFolder(path);
          notify(`Added ${folder.path}`);
          onChanged();
          onAdded?.(folder);
        }}
      />
      {removing && (
        <ConfirmDialog
          title="Remove this folder?"
          message={`Photo Search stops showing the ${formatCount(removing.photoCount)} photos in ${removing.path}. Their ratings and tags are kept in case you add the folder again, and the files themselves stay where they are.`}
          confirmLabel="Remove folder"
          danger
          onCancel={() => setRemoving(null)}
          onConfirm={() => {
            const folder = removing;
            setRemoving(null);
            void client.removeFolder(folder.id).then(() => {
              notify(`Removed ${folder.path}`);
              onChanged();
            }, notifyError);
          }}
        />
      )}
    </section>
  );
}

interface ModelProps {
  client: PhotoSearchClient;
  kind: ClientKind;
  model: ModelStatus | null;
  onChanged(status: ModelStatus): void;
}

const MODEL_TOAST = 'model-in-use';

/** What switching to a model folder costs, in words: photos to embed, the time at this computer's speed, search meanwhile. */
function switchMessage(preview: ModelSwitchPreview): string {
  const estimate = preview.estimatedSeconds !== null && preview.photosPerSecond !== null
    ? `, ${preview.estimatedSeconds < 60 ? 'under a minute' : `about ${formatDuration(preview.estimatedSeconds)}`} at the ` +
      `${preview.photosPerSecond.toFixed(1)} photos/s indexing last ran at on this computer`
    : '';
  const meanwhile = preview.searchKeeps
    ? ` Search keeps using ${preview.searchKeeps} until every photo is done.`
    : '';
  return `${preview.modelId} needs its own vectors: ${formatCount(preview.photosToEmbed)} photos will be embedded again in the ` +
    `background${estimate}.${meanwhile} Each model keeps its vectors, so switching back later costs nothing.`;
}

export function ModelSection({ client, kind, model, onChanged }: ModelProps) {
  const downloading = model?.state === 'downloading';
  const progress = model?.progress;
  /** A switch that re-embeds photos, waiting for the user's yes. */
  const [switching, setSwitching] = useState<{ path: string; preview: ModelSwitchPreview } | null>(null);
  async function useFolder(path: string): Promise<void> {
    const status = await client.useModelFolder(path);
    onChanged(status);
    if (status.state !== 'ready') return;
    dismissKeyed(MODEL_TOAST); // one notice for the model in use, not one per switch
    notify(`Using ${status.modelId}`, 'info', { key: MODEL_TOAST });
  }
  return (
    <section className="settings-section" aria-labelledby="model-heading" data-testid="model-section">
      <h3 id="model-heading"><Icon name="search" /> Search model</h3>
      {model?.state === 'ready' ? (
        <p data-testid="model-status" data-state="ready">
          <span className="ok-dot" aria-hidden="true" /> <strong>{model.modelId}</strong> is ready
          {model.dir && <span className="muted path" dir="auto"> — {model.dir}</span>}
        </p>
      ) : (
        <p className="muted" data-testid="model-status" data-state={model?.state ?? 'unknown'}>
          Search runs a CLIP model on this computer. Download it once (about 600 MB), or use a folder that
          already holds one. Photos never leave your machine.
        </p>
      )}
      {model?.state === 'error' && <p className="error-text" role="alert">{model.error}</p>}
      {downloading && (
        <div className="download" data-testid="model-download">
          <ProgressBar value={progress ? progress.receivedBytes : null} max={progress?.totalBytes || 1} label="Model download" testId="model-download-progress" />
          <span className="muted">
            {progress ? `${progress.file}: ${formatBytes(progress.receivedBytes)}${progress.totalBytes ? ` of ${formatBytes(progress.totalBytes)}` : ''}` : 'Starting…'}
          </span>
        </div>
      )}
      {model?.state !== 'ready' && (
        <button
          type="button"
          className="primary"
          disabled={downloading}
          data-testid="model-download-button"
          onClick={() => void client.downloadModel(null).catch(notifyError)}
        >
          <Icon name="download" /> {downloading ? 'Downloading…' : 'Download the model'}
        </button>
      )}
      <PathField
        label="Model folder"
        example="/home/me/models/ViT-B-32__openai"
        buttonLabel={model?.state === 'ready' ? 'Use another model' : 'Use this folder'}
        testId="model-folder"
        kind={kind}
        client={client}
        onSubmit={async (path) => {
          // Before the first model there is nothing to lose; after it, a model that re-embeds asks first.
          const preview = model?.state === 'ready' ? await client.previewModelFolder(path) : null;
          if (preview && !preview.isCurrent && preview.photosToEmbed > 0) setSwitching({ path, preview });
          else await useFolder(path);
        }}
      />
      {switching && (
        <ConfirmDialog
          title={`Switch to ${switching.preview.modelId}?`}
          message={switchMessage(switching.preview)}
          confirmLabel="Switch model"
          onCancel={() => setSwitching(null)}
          onConfirm={() => {
            const { path } = switching;
            setSwitching(null);
            // Confirmed: the new model's vectors are made now, in the background.
            void useFolder(path).then(() => client.startIndexing()).catch(notifyError);
          }}
        />
      )}
    </section>
  );
}

const PROVIDER_NAMES: Record<ProviderChoice, string> = {
  auto: 'Automatic',
  cpu: 'CPU',
  cuda: 'CUDA (NVIDIA GPU)',
  dml: 'DirectML (Windows GPU)',
  coreml: 'CoreML (Apple)',
};

/** Where indexing runs the model: automatic (the best provider that works here) or one provider, then the CPU. */
export function ProviderSection({ client }: { client: PhotoSearchClient }) {
  const [setting, setSetting] = useState<ProviderSetting | null>(null);
  const selectId = useId();
  useEffect(() => {
    let live = true;
    client.getExecutionProvider().then((value) => live && setSetting(value), notifyError);
    return () => {
      live = false;
    };
  }, [client]);
  if (!setting) return null;
  const offered = PROVIDER_CHOICES.filter((choice) => choice === 'auto' || choice === setting.choice || setting.candidates.includes(choice));
  return (
    <section className="settings-section" aria-labelledby="provider-heading" data-testid="provider-section">
      <h3 id="provider-heading"><Icon name="play" /> Indexing hardware</h3>
      <label htmlFor={selectId}>Run the model on </label>
      <select
        id={selectId}
        value={setting.choice}
        data-testid="provider-select"
        onChange={(e) => {
          const choice = e.target.value as ProviderChoice;
          client.setExecutionProvider(choice).then((value) => {
            setSetting(value);
            notify(`Indexing will use ${PROVIDER_NAMES[value.choice]} from its next run`);
          }, notifyError);
        }}
      >
        {offered.map((choice) => <option key={choice} value={choice}>{PROVIDER_NAMES[choice]}</option>)}
      </select>
      <p className="muted">
        Automatic tries {setting.candidates.map((p) => PROVIDER_NAMES[p]).join(', then ')}. A choice that does not work on this
        computer falls back to the CPU, and the indexing panel says why.
      </p>
    </section>
  );
}
