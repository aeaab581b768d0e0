// Read a `.dmft` file, parse, apply `--set` overrides and validate.
import { DmftError, withSource } from '../errors.ts';
import type { Model } from './ir.ts';
import { parseModel } from './parse.ts';
import { applyOverrides, validateModel } from './validate.ts';
import { inputName, readInput, type ReadOptions } from '../input.ts';

export function loadModelSource(source: string, file: string, sets: Record<string, number> = {}): Model {
  const parsed = parseModel(source, file);
  let model: Model;
  try {
    model = applyOverrides(parsed, sets);
  } catch (e) {
    throw e instanceof DmftError ? withSource(e, source) : e;
  }
  return validateModel(model, source);
}

/** Read (a file, or standard input for `-`), parse, apply `--set`, validate. */
export function loadModel(file: string, sets: Record<string, number> = {}, opts: Pick<ReadOptions, 'maxBytes'> = {}): Model {
  const source = readInput(file, { ...opts, what: 'a .dmft model', noun: 'model file', example: 'examples/scs.dmft' });
  return loadModelSource(source, inputName(file), sets);
}
