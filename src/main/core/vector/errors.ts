/** Misuse of the vector index (bad input, wrong dimension, unreadable files): a JS error, never a native abort. */
export class VectorIndexError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VectorIndexError';
  }
}
