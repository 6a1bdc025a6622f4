// Above the results: how the query was read, when the user should know. A Hebrew query that the library's
// English-only model cannot read says so (nothing was searched) and offers the multilingual text model with
// its download size, then shows the download's progress (the library's model stays ready meanwhile); one
// read by that model says which model read it.
import { useEffect, useState } from 'react';
import type { PhotoSearchClient } from '../../shared/api.js';
import type { ModelStatus, SearchNotice } from '../../shared/types.js';
import { notifyError } from '../toast.js';

function formatBytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${Math.round(bytes / 1e6)} MB`;
}

export function SearchNoticeBanner({ client, notice }: { client: PhotoSearchClient; notice: SearchNotice }) {
  const [started, setStarted] = useState(false);
  const [download, setDownload] = useState<ModelStatus['textModel']>(undefined);
  const offer = notice.offer;
  const name = offer ? offer.modelId.slice(offer.modelId.indexOf('/') + 1) : '';

  useEffect(() => {
    if (!offer) return undefined;
    return client.onEvent((event) => {
      if (event.type === 'model' && event.status.textModel?.modelId === offer.modelId) setDownload(event.status.textModel);
    });
  }, [client, offer]);

  const downloading = started && download?.state !== 'error';
  const progress = download?.state === 'downloading' && download.progress?.totalBytes
    ? `Downloading… ${formatBytes(download.progress.receivedBytes)} of ${formatBytes(download.progress.totalBytes)}`
    : 'Downloading…';
  return (
    <div className={`search-notice ${notice.kind}`} role="status" data-testid="search-notice">
      <span>{notice.message}</span>
      {offer && !offer.reembed && (
        <button
          type="button"
          className="primary"
          disabled={downloading}
          data-testid="search-notice-download"
          onClick={() => {
            setStarted(true);
            setDownload(undefined);
            client.downloadModel(offer.modelId).catch((error: unknown) => {
              setStarted(false);
              notifyError(error);
            });
          }}
        >
          {downloading ? progress : `Download ${name} (about ${formatBytes(offer.downloadBytes)})`}
        </button>
      )}
      {download?.state === 'error' && <span className="muted" data-testid="search-notice-error">The download failed: {download.error}</span>}
    </div>
  );
}
