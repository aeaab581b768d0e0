// `dmft derive MODEL [--route] [--format tex|html|json|steps] [-o FILE]` (-o: main.ts)
import { DmftError } from '../errors.ts';
import { loadModel } from '../model/load.ts';
import { derive, type Route } from '../derive/index.ts';
import { featuresTex, msrTexNames, standaloneDocument, stepsToTex, stepsToText, systemToHtml, systemToTex } from '../latex/index.ts';
import { STAGES, stageOf } from '../derive/msr/text.ts';
import { normalizeSystem } from '../derive/normalize.ts';
import type { Derivation } from '../derive/system.ts';
import { maxBytesOption } from './options.ts';

const FORMATS = ['tex', 'html', 'json', 'steps'] as const;
type Format = (typeof FORMATS)[number];

export interface DeriveOptions { set: Record<string, number>; route: string; format: string; standalone?: boolean; maxBytes?: string }

export async function renderDerivation(d: Derivation, format: Format, opts: { standalone?: boolean } = {}): Promise<string> {
  // the path-integral route's notation (i, x̂, Q, Q̂) needs its own LaTeX names
  const names = d.route === 'msr' ? msrTexNames(d.steps, d.system) : undefined;
  const notes = d.notes ?? [];
  switch (format) {
    case 'json': return JSON.stringify({ system: normalizeSystem(d.system), ...(notes.length ? { notes } : {}), steps: d.steps }, null, 2) + '\n';
    case 'steps': return notes.map((n) => `note: ${n}\n`).join('') + stepsToText(d.steps);
    case 'tex': {
      const eqs = notes.map((n) => `% note: ${n}\n`).join('') + featuresTex(d.steps) + systemToTex(d.system, { flavor: 'paper', route: d.route, names });
      // the path-integral route shows every stage of its derivation too
      const stage = (rule: string) => STAGES[stageOf(rule)]?.title;
      // the stages as text (subsections, each step's rule and reason a paragraph), long equations broken
      const stages = d.route === 'msr' ? `\n\\section*{Path-integral derivation, stage by stage}\n${stepsToTex(d.steps, { system: d.system, names }, stage, { prose: true })}` : '';
      if (!opts.standalone) return `${eqs}${stages}`;
      const how = d.route === 'msr' ? 'the MSRJD path integral (the derivation follows, stage by stage)' : 'the cavity method';
      return standaloneDocument({
        title: `${d.system.model || 'model'}: dynamical mean-field theory`,
        intro: `The single-site process and its closure, derived by dmftkit by ${how}.${notes.length ? ` Notes: ${notes.join(' ')}` : ''}`,
        body: `${eqs}${stages}`,
      });
    }
    case 'html': return systemToHtml(d.system, d.steps, { title: d.system.model, route: d.route, names, notes });
  }
}

export async function runDerive(file: string, o: DeriveOptions, out: (s: string) => void): Promise<void> {
  if (!(FORMATS as readonly string[]).includes(o.format)) {
    throw new DmftError({ message: `--format ${o.format}: unknown format`, expected: FORMATS.join(' | ') });
  }
  if (o.route !== 'cavity' && o.route !== 'msr') throw new DmftError({ message: `--route ${o.route}: unknown route`, expected: 'cavity | msr' });
  if (o.standalone && o.format !== 'tex') throw new DmftError({ message: `--standalone applies to --format tex, not ${o.format}`, hint: 'the html format is a standalone page already' });
  const m = loadModel(file, o.set, { maxBytes: maxBytesOption(o.maxBytes) });
  const d = derive(m, o.route as Route);
  const text = await renderDerivation(d, o.format as Format, { standalone: o.standalone });
  out(text);
}
