// Export and import of embeddings in the minimal recipe form (embeddings.npy + file_paths.txt + faiss.index).
export { exportRecipe, type ExportOptions, type ExportResult } from './export.js';
export { importRecipe, importPathList, type ImportRecipeOptions, type ImportSummary, type ImportPathsSummary } from './import.js';
export { KNOWN_MODELS, knownModel, resolveImportModel, type KnownModel } from './known-models.js';
export { RECIPE_FILES, RecipeError, type RecipeManifest } from './recipe-format.js';
