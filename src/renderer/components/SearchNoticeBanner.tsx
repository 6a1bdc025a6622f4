// Above the results: how the query was read, when the user should know. A Hebrew query that the library's
// English-only model cannot read says so (nothing was searched) and offers the multilingual text model with
// its download size; one read by that model says which model read it.
import { useState } from 'react';
import type { PhotoSearchClient } from '../../shared/api.js';
import type { SearchNotice } from '../../shared/types.js';
import { notifyError } from '../toast.js';

function formatBytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${Math.round(bytes / 1e6)} MB`;
}

export function SearchNoticeBanner({ client, notice }: { client: PhotoSearchClient; notice: SearchNotice }) {
  const [started, setStarted] = useState(false);
  const offer = notice.offer;
  const name = offer ? offer.modelId.slice(offer.modelId.indexOf('/') + 1) : '';
  return (
    <div className={`search-notice ${notice.kind}`} role="status" data-testid="search-notice">
      <span>{notice.message}</span>
      {offer && !offer.reembed && (
        <button
          type="button"
          className="primary"
          disabled={started}
          data-testid="search-notice-download"
          onClick={() => {
            setStarted(true);
            client.downloadModel(offer.modelId).catch((error: unknown) => {
              setStarted(false);
              notifyError(error);
            });
          }}
        >
          {started ? 'Downloading…' : `Download ${name} (about ${formatBytes(offer.downloadBytes)})`}
        </button>
      )}
    </div>
  );
}
