// 0–5 stars. Clicking the current rating again clears it; each star is a labelled button.
// "Disabled" (while a bulk change runs) is aria-disabled, not the disabled attribute: a disabled button
// drops keyboard focus to <body>, and the grid's keys (arrows, 0–5) would stop working after a click.
import { Icon } from './icons.js';

interface Props {
  value: number;
  onChange(rating: number): void;
  label: string;
  size?: number;
  testId?: string;
  disabled?: boolean;
}

export function StarRating({ value, onChange, label, size = 18, testId, disabled }: Props) {
  return (
    <div className="stars" role="group" aria-label={label} data-testid={testId} data-rating={value}>
      {[1, 2, 3, 4, 5].map((star) => (
        <button
          key={star}
          type="button"
          className={star <= value ? 'star on' : 'star'}
          aria-label={`${star} star${star > 1 ? 's' : ''}`}
          aria-pressed={star <= value}
          aria-disabled={disabled || undefined}
          onClick={() => {
            if (!disabled) onChange(star === value ? 0 : star);
          }}
        >
          <Icon name="star" size={size} filled={star <= value} />
        </button>
      ))}
    </div>
  );
}
