// App-wide notifications: any view can report an error or a result without prop drilling. A toast may
// carry one action (Undo): it then stays a little longer, and `dismissKeyed` closes it once the action
// no longer applies (the edit was undone some other way).
export interface ToastAction {
  label: string;
  run(): void;
}

export interface Toast {
  id: number;
  message: string;
  kind: 'info' | 'error';
  action?: ToastAction;
  /** What the toast is about (an edit), so it can be closed when that changes. */
  key?: string;
}

let nextId = 1;
let toasts: Toast[] = [];
const listeners = new Set<() => void>();

function emit(): void {
  for (const listener of [...listeners]) listener();
}

export function notify(message: string, kind: Toast['kind'] = 'info', options: { action?: ToastAction; key?: string } = {}): void {
  const toast: Toast = { id: nextId++, message, kind, ...options };
  toasts = [...toasts.slice(-3), toast];
  emit();
  setTimeout(() => dismiss(toast.id), kind === 'error' || options.action ? 8000 : 4000);
}

export function notifyError(error: unknown): void {
  notify(error instanceof Error ? error.message : String(error), 'error');
}

export function dismiss(id: number): void {
  toasts = toasts.filter((toast) => toast.id !== id);
  emit();
}

/** Closes the toasts about this key. */
export function dismissKeyed(key: string): void {
  if (!toasts.some((toast) => toast.key === key)) return;
  toasts = toasts.filter((toast) => toast.key !== key);
  emit();
}

export const toastStore = {
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  getSnapshot: (): Toast[] => toasts,
};
