// Filters combined with the text query: minimum rating, tags (all must match), folder, date range, camera.
import { useEffect, useRef, useState } from 'react';
import type { PhotoSearchClient } from '../../shared/api.js';
import type { LibraryFolder, SearchFilters } from '../../shared/types.js';
import { dayToMs, msToDay } from '../format.js';
import { useDebounced } from '../hooks/useDebounced.js';
import { Icon } from './icons.js';
import { TagChip, TagInput } from './TagInput.js';

interface Props {
  client: PhotoSearchClient;
  filters: SearchFilters;
  folders: LibraryFolder[];
  onChange(filters: SearchFilters): void;
}

function without<K extends keyof SearchFilters>(filters: SearchFilters, key: K): SearchFilters {
  const next = { ...filters };
  delete next[key];
  return next;
}

/** A folder's last path segments: enough to tell it from the other folders, short enough for the bar. */
export function folderLabel(folder: LibraryFolder, folders: LibraryFolder[]): string {
  const parts = (path: string) => path.split(/[\\/]/).filter(Boolean);
  const mine = parts(folder.path);
  for (let take = 1; take < mine.length; take++) {
    const tail = mine.slice(-take).join('/');
    if (!folders.some((other) => other.id !== folder.id && parts(other.path).slice(-take).join('/') === tail)) return tail;
  }
  return folder.path;
}

export function hasFilters(filters: SearchFilters): boolean {
  return Object.values(filters).some((value) => value !== undefined && !(Array.isArray(value) && value.length === 0));
}

export function FilterBar({ client, filters, folders, onChange }: Props) {
  const [camera, setCamera] = useState(filters.camera ?? '');
  const settledCamera = useDebounced(camera.trim(), 300);
  // Only the debounced text drives this effect; the other filters are read as they are then.
  const latest = useRef({ filters, onChange });
  latest.current = { filters, onChange };
  useEffect(() => {
    const { filters: current, onChange: change } = latest.current;
    if ((current.camera ?? '') === settledCamera) return;
    change(settledCamera ? { ...current, camera: settledCamera } : without(current, 'camera'));
  }, [settledCamera]);
  useEffect(() => setCamera(filters.camera ?? ''), [filters.camera]);

  const tags = filters.tags ?? [];
  const set = <K extends keyof SearchFilters>(key: K, value: SearchFilters[K] | undefined) =>
    onChange(value === undefined || value === '' ? without(filters, key) : { ...filters, [key]: value });

  return (
    <div className="filter-bar" role="search" aria-label="Filters" data-testid="filter-bar">
      <Icon name="filter" size={16} />
      <label className="filter">
        <span>Rating</span>
        <select
          aria-label="Minimum rating"
          data-testid="filter-rating"
          value={filters.minRating ?? 0}
          onChange={(e) => set('minRating', Number(e.target.value) || undefined)}
        >
          <option value={0}>Any</option>
          {[1, 2, 3, 4, 5].map((n) => (
            <option key={n} value={n}>{'★'.repeat(n)}{n < 5 ? ' & up' : ''}</option>
          ))}
        </select>
      </label>
      <div className="filter filter-tags">
        <span>Tags</span>
        {tags.map((tag) => (
          <TagChip key={tag} name={tag} testId="filter-tag" onRemove={() => set('tags', tags.filter((t) => t !== tag).length ? tags.filter((t) => t !== tag) : undefined)} />
        ))}
        <TagInput
          client={client}
          label="Filter by tag"
          placeholder={tags.length ? 'and…' : 'Any tag'}
          testId="filter-tag-input"
          exclude={tags}
          onAdd={(tag) => !tags.includes(tag) && set('tags', [...tags, tag])}
        />
      </div>
      {folders.length > 1 && (
        <label className="filter">
          <span>Folder</span>
          <select
            aria-label="Folder"
            className="folder-select"
            data-testid="filter-folder"
            value={filters.folderId ?? ''}
            title={folders.find((folder) => folder.id === filters.folderId)?.path}
            onChange={(e) => set('folderId', e.target.value ? Number(e.target.value) : undefined)}
          >
            <option value="">All folders</option>
            {folders.map((folder) => (
              <option key={folder.id} value={folder.id} title={folder.path}>{folderLabel(folder, folders)}</option>
            ))}
          </select>
        </label>
      )}
      <div className="filter" role="group" aria-label="Date taken">
        <span>Date</span>
        <input type="date" aria-label="Taken from" data-testid="filter-date-from" value={msToDay(filters.dateFrom)} max={msToDay(filters.dateTo) || undefined} onChange={(e) => set('dateFrom', dayToMs(e.target.value, false))} />
        <span className="muted">–</span>
        <input type="date" aria-label="Taken until" data-testid="filter-date-to" value={msToDay(filters.dateTo)} min={msToDay(filters.dateFrom) || undefined} onChange={(e) => set('dateTo', dayToMs(e.target.value, true))} />
      </div>
      <label className="filter">
        <span>Camera</span>
        <input type="text" dir="auto" className="camera-input" aria-label="Camera" placeholder="Any camera" data-testid="filter-camera" value={camera} onChange={(e) => setCamera(e.target.value)} />
      </label>
      {hasFilters(filters) && (
        <button type="button" className="link-button" data-testid="clear-filters" onClick={() => onChange({})}>
          Clear filters
        </button>
      )}
    </div>
  );
}
