// A determinate (value/max) or indeterminate progress bar with an accessible name.
interface Props {
  value: number | null;
  max?: number;
  label: string;
  testId?: string;
}

export function ProgressBar({ value, max = 1, label, testId }: Props) {
  const fraction = value === null || max <= 0 ? null : Math.min(1, Math.max(0, value / max));
  return (
    <div
      className={fraction === null ? 'progress indeterminate' : 'progress'}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={fraction === null ? undefined : Math.round(fraction * 100)}
      data-testid={testId}
    >
      <div className="progress-fill" style={{ width: fraction === null ? undefined : `${fraction * 100}%` }} />
    </div>
  );
}
