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

/** A model's text as read once, with the name it is reported under
 *  (`<stdin>` for `-`). Standard input can be read only once: a command that
 *  loads its model more than once (to choose a route, or at other
 *  parameters) reads it into a ModelText and loads every variant from it. */
export interface ModelText { file: string; source: string }

/** Read a model's text (a file, or standard input for `-`). */
export function readModelText(file: string, opts: Pick<ReadOptions, 'maxBytes'> = {}): ModelText {
  return { file: inputName(file), source: readInput(file, { ...opts, what: 'a .dmft model', noun: 'model file', example: 'examples/scs.dmft' }) };
}

/** Parse, apply `--set` and validate a model read by readModelText. */
export function loadModelText(t: ModelText, sets: Record<string, number> = {}): Model {
  return loadModelSource(t.source, t.file, sets);
}

/** Read (a file, or standard input for `-`), parse, apply `--set`, validate. */
export function loadModel(file: string, sets: Record<string, number> = {}, opts: Pick<ReadOptions, 'maxBytes'> = {}): Model {
  return loadModelText(readModelText(file, opts), sets);
}
