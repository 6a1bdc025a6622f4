// A tag field with autocomplete from the library's tags: type, pick with arrows/Enter/Tab or click.
// dir="auto" lets Hebrew or Arabic tags be typed and shown right-to-left.
import { useEffect, useId, useRef, useState } from 'react';
import type { PhotoSearchClient } from '../../shared/api.js';
import type { TagCount } from '../../shared/types.js';
import { useDebounced } from '../hooks/useDebounced.js';

interface Props {
  client: PhotoSearchClient;
  onAdd(tag: string): void;
  placeholder: string;
  label: string;
  testId?: string;
  /** Tags not to suggest (already present). */
  exclude?: readonly string[];
}

export function TagInput({ client, onAdd, placeholder, label, testId, exclude = [] }: Props) {
  const [text, setText] = useState('');
  const [open, setOpen] = useState(false);
  const [suggestions, setSuggestions] = useState<TagCount[]>([]);
  const [active, setActive] = useState(-1);
  const prefix = useDebounced(text.trim(), 120);
  const listId = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  // Compared by content: callers pass fresh arrays on every render.
  const excludeKey = exclude.join('\u0000');

  useEffect(() => {
    if (!open) return;
    let live = true;
    client.listTags(prefix).then(
      (tags) => live && setSuggestions(tags.filter((tag) => !excludeKey.split('\u0000').includes(tag.name)).slice(0, 8)),
      () => live && setSuggestions([]),
    );
    return () => {
      live = false;
    };
  }, [client, prefix, open, excludeKey]);

  useEffect(() => setActive(-1), [suggestions]);

  function commit(tag: string) {
    const clean = tag.trim().replace(/\s+/g, ' ');
    if (!clean) return;
    onAdd(clean.slice(0, 100));
    setText('');
    setActive(-1);
  }

  return (
    <div className="tag-input">
      <input
        ref={inputRef}
        type="text"
        dir="auto"
        value={text}
        placeholder={placeholder}
        aria-label={label}
        data-testid={testId}
        role="combobox"
        aria-expanded={open && suggestions.length > 0}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={active >= 0 ? `${listId}-${active}` : undefined}
        onChange={(e) => {
          setText(e.target.value);
          setOpen(true);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setTimeout(() => setOpen(false), 120)}
        onKeyDown={(e) => {
          e.stopPropagation();
          if (e.key === 'ArrowDown') {
            e.preventDefault();
            setActive((a) => Math.min(suggestions.length - 1, a + 1));
          } else if (e.key === 'ArrowUp') {
            e.preventDefault();
            setActive((a) => Math.max(-1, a - 1));
          } else if (e.key === 'Enter') {
            e.preventDefault();
            commit(active >= 0 ? suggestions[active].name : text);
          } else if (e.key === 'Tab' && active >= 0) {
            e.preventDefault();
            setText(suggestions[active].name);
          } else if (e.key === 'Escape') {
            if (text || open) {
              e.preventDefault();
              setText('');
              setOpen(false);
            } else inputRef.current?.blur();
          }
        }}
      />
      {open && suggestions.length > 0 && (
        <ul className="suggestions" role="listbox" id={listId} data-testid={testId ? `${testId}-suggestions` : undefined}>
          {suggestions.map((tag, i) => (
            <li
              key={tag.name}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active}
              className={i === active ? 'active' : undefined}
              onMouseDown={(e) => {
                e.preventDefault();
                commit(tag.name);
              }}
            >
              <span dir="auto">{tag.name}</span>
              <span className="muted">{tag.count.toLocaleString()}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function TagChip({ name, onRemove, onClick, testId }: { name: string; onRemove?(): void; onClick?(): void; testId?: string }) {
  return (
    <span className="chip" data-testid={testId} data-tag={name}>
      {onClick ? (
        <button type="button" className="chip-label" dir="auto" onClick={onClick} title={`Show photos tagged “${name}”`}>
          {name}
        </button>
      ) : (
        <span className="chip-label" dir="auto">{name}</span>
      )}
      {onRemove && (
        <button type="button" className="chip-remove" aria-label={`Remove tag ${name}`} onClick={onRemove}>
          ×
        </button>
      )}
    </span>
  );
}
