// Runtime validation of every API call's arguments: the main process and the web server parse
// untrusted input from the renderer with these before anything touches the library.
import { z } from 'zod';
import type { ApiMethod } from './api.js';
import { PROVIDER_CHOICES } from './types.js';

const photoId = z.number().int().positive();
const photoIds = z.array(photoId).min(1).max(1_000_000);
const tagName = z.string().trim().min(1).max(100);
const absolutePath = z.string().min(1).max(4096);
const editId = z.number().int().positive();
/** The edit an earlier chunk of the same selection recorded (optional; JSON carries a missing one as null). */
const partOf = editId.nullish();

export const searchFiltersSchema = z.strictObject({
  minRating: z.number().int().min(0).max(5).optional(),
  tags: z.array(tagName).max(50).optional(),
  folderId: z.number().int().positive().optional(),
  dateFrom: z.number().finite().optional(),
  dateTo: z.number().finite().optional(),
  camera: z.string().max(200).optional(),
});

const paging = {
  offset: z.number().int().min(0).max(10_000_000).optional(),
  limit: z.number().int().min(1).max(1000).optional(),
  sort: z.enum(['relevance', 'date']).optional(),
  scope: z.enum(['best', 'all']).optional(),
};

export const searchRequestSchema = z.strictObject({
  query: z.string().max(1000),
  filters: searchFiltersSchema.optional(),
  ...paging,
});

export const similarRequestSchema = z.strictObject({
  photoId,
  filters: searchFiltersSchema.optional(),
  ...paging,
});

const none = z.tuple([]);

/** Argument tuple schema for each API method. */
export const apiArgSchemas = {
  getStatus: none,
  listFolders: none,
  addFolder: z.tuple([absolutePath]),
  removeFolder: z.tuple([z.number().int().positive()]),
  pickFolder: none,
  search: z.tuple([searchRequestSchema]),
  findSimilar: z.tuple([similarRequestSchema]),
  getPhoto: z.tuple([photoId]),
  getTimeline: z.tuple([searchFiltersSchema]),
  setRating: z.tuple([photoIds, z.number().int().min(0).max(5), partOf]),
  addTags: z.tuple([photoIds, z.array(tagName).min(1).max(50), partOf]),
  removeTags: z.tuple([photoIds, z.array(tagName).min(1).max(50), partOf]),
  listTags: z.tuple([z.string().max(100)]),
  listEdits: none,
  undoEdit: z.tuple([editId]),
  undoLast: none,
  startIndexing: none,
  pauseIndexing: none,
  resumeIndexing: none,
  cancelIndexing: none,
  getIndexingProgress: none,
  listFailed: z.tuple([z.number().int().min(1).max(10_000)]),
  getExecutionProvider: none,
  setExecutionProvider: z.tuple([z.enum(PROVIDER_CHOICES)]),
  getModelStatus: none,
  downloadModel: z.tuple([z.string().regex(/^[\w.-]+\/[\w.-]+$/).nullable()]),
  previewModelFolder: z.tuple([absolutePath]),
  useModelFolder: z.tuple([absolutePath]),
  getDuplicates: z.tuple([z.number().int().min(0).max(10_000_000), z.number().int().min(1).max(500)]),
  startDuplicateScan: none,
  cancelDuplicateScan: none,
  resolveDuplicates: z.tuple([z.array(z.strictObject({ keepId: photoId, trashIds: z.array(photoId).min(1).max(10_000) })).min(1).max(100_000)]),
  dismissDuplicates: z.tuple([z.array(photoId).min(2).max(1000)]),
  trashPhotos: z.tuple([photoIds]),
} satisfies Record<ApiMethod, z.ZodType>;

export class ApiInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiInputError';
  }
}

export function isApiMethod(name: unknown): name is ApiMethod {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(apiArgSchemas, name);
}

/** Validates a method name and its arguments; throws ApiInputError naming the problem. */
export function parseApiCall(method: unknown, args: unknown): { method: ApiMethod; args: unknown[] } {
  if (!isApiMethod(method)) throw new ApiInputError(`unknown API method: ${String(method).slice(0, 60)}`);
  const result = apiArgSchemas[method].safeParse(args ?? []);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ApiInputError(`invalid arguments for ${method}: ${issue?.path.join('.') || 'args'}: ${issue?.message}`);
  }
  return { method, args: result.data as unknown[] };
}
