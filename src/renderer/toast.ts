// App-wide notifications: any view can report an error or a result without prop drilling.
export interface Toast {
  id: number;
  message: string;
  kind: 'info' | 'error';
}

let nextId = 1;
let toasts: Toast[] = [];
const listeners = new Set<() => void>();

function emit(): void {
  for (const listener of [...listeners]) listener();
}

export function notify(message: string, kind: Toast['kind'] = 'info'): void {
  const toast = { id: nextId++, message, kind };
  toasts = [...toasts.slice(-3), toast];
  emit();
  setTimeout(() => dismiss(toast.id), kind === 'error' ? 8000 : 4000);
}

export function notifyError(error: unknown): void {
  notify(error instanceof Error ? error.message : String(error), 'error');
}

export function dismiss(id: number): void {
  toasts = toasts.filter((toast) => toast.id !== id);
  emit();
}

export const toastStore = {
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  getSnapshot: (): Toast[] => toasts,
};
