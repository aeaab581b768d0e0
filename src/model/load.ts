// Read a `.dmft` file, parse, apply `--set` overrides and validate.
import { readFileSync } from 'node:fs';
import { DmftError, withSource } from '../errors.ts';
import type { Model } from './ir.ts';
import { parseModel } from './parse.ts';
import { applyOverrides, validateModel } from './validate.ts';

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

export function loadModel(file: string, sets: Record<string, number> = {}): Model {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DmftError({
      file, message: code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a model file' : `cannot read the file (${code})`,
      hint: 'give the path of a .dmft model, e.g. examples/scs.dmft',
    });
  }
  return loadModelSource(source, file, sets);
}
