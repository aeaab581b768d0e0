// Gaussian expectations of smooth functions now live in src/numeric/normal.ts;
// re-exported here for the solvers that still import them from this path.
export * from '../numeric/normal.ts';
